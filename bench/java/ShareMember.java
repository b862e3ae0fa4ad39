// A member of a share group with the Java client's KafkaShareConsumer, run as a single-file source
// program (as Latency.java) by the share-group tests and the share benchmark:
//   java -cp '.kafka/libs-<version>/*' bench/java/ShareMember.java <bootstrap> <group> <topic> <handlerMs> <report>
// Explicit acknowledgement: each record is handled (a sleep of handlerMs, 0 for none) and accepted,
// then commitSync() after each poll; what the broker confirmed is printed as one JSON line per
// commit: report `offsets` prints {"accepted":{"<partition>":[offset,...]}}, `counts` prints
// {"accepted":N}. Failed acknowledgements print {"failed":"<error>"}. It prints {"started":true}
// once subscribed, and leaves the group cleanly on SIGTERM.

import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class ShareMember {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], group = args[1], topic = args[2];
    long handlerMs = Long.parseLong(args[3]);
    boolean offsets = args[4].equals("offsets");
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("group.id", group);
    p.put("share.acknowledgement.mode", "explicit");
    KafkaShareConsumer<byte[], byte[]> consumer =
        new KafkaShareConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    Thread main = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      consumer.wakeup();
      try {
        main.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    consumer.subscribe(List.of(topic));
    System.out.println("{\"started\":true}");
    System.out.flush();
    try {
      for (;;) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) continue;
        Map<Integer, List<Long>> handled = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
          if (handlerMs > 0) Thread.sleep(handlerMs);
          consumer.acknowledge(r, AcknowledgeType.ACCEPT);
          handled.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.offset());
        }
        Map<TopicIdPartition, Optional<KafkaException>> result = consumer.commitSync();
        StringBuilder out = new StringBuilder();
        int accepted = 0;
        for (Map.Entry<TopicIdPartition, Optional<KafkaException>> e : result.entrySet()) {
          int partition = e.getKey().partition();
          List<Long> done = handled.getOrDefault(partition, List.of());
          if (e.getValue().isPresent()) {
            System.out.println("{\"failed\":\"" + e.getValue().get().getClass().getSimpleName() + "\"}");
            continue;
          }
          accepted += done.size();
          if (offsets) {
            if (out.length() > 0) out.append(',');
            out.append('"').append(partition).append("\":").append(done);
          }
        }
        System.out.println(offsets ? "{\"accepted\":{" + out + "}}" : "{\"accepted\":" + accepted + "}");
        System.out.flush();
      }
    } catch (WakeupException e) {
      // SIGTERM: close() below sends what is left and leaves the group
    } finally {
      consumer.close();
    }
  }
}
