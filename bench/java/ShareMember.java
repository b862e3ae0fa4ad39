// Members of a share group with the Java client's KafkaShareConsumer, run as a program by the
// share-group tests and the share benchmark (bench/lib/share-member.ts compiles it once):
//   java -cp <classes>:'.kafka/libs-<version>/*' ShareMember <bootstrap> <group> <topic> <handlerMs> <report> [members]
// `members` consumers in threads of this JVM (default 1). Explicit acknowledgement: each record is
// handled (a sleep of handlerMs, 0 for none) and accepted, then commitSync() after each poll; what
// the broker confirmed is printed as one JSON line per commit: report `offsets` prints
// {"accepted":{"<partition>":[offset,...]}}, `counts` prints {"accepted":N}. Failed acknowledgements
// print {"failed":"<error>"}. It prints {"started":true} once every member subscribed, and runs
// until SIGTERM: then each member acknowledges what is left and leaves the group, and it prints
// {"first":ms,"end":ms,"total":N,"cpuSeconds":s} (epoch ms of the first record polled and of the
// last acceptance confirmed, their count, and the CPU time of the JVM).

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class ShareMember {
  static final AtomicLong accepted = new AtomicLong();
  static final AtomicLong first = new AtomicLong();
  static final AtomicLong end = new AtomicLong();

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], group = args[1], topic = args[2];
    long handlerMs = Long.parseLong(args[3]);
    boolean offsets = args[4].equals("offsets");
    int members = args.length > 5 ? Integer.parseInt(args[5]) : 1;
    List<KafkaShareConsumer<byte[], byte[]>> consumers = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrap);
      p.put("group.id", group);
      p.put("share.acknowledgement.mode", "explicit");
      KafkaShareConsumer<byte[], byte[]> c =
          new KafkaShareConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      c.subscribe(List.of(topic));
      consumers.add(c);
    }
    CountDownLatch done = new CountDownLatch(members);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      consumers.forEach(KafkaShareConsumer::wakeup);
      try {
        done.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      double cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
      System.out.println("{\"first\":" + first.get() + ",\"end\":" + end.get() + ",\"total\":" + accepted.get() + ",\"cpuSeconds\":" + cpu + "}");
      System.out.flush();
    }));
    System.out.println("{\"started\":true}");
    System.out.flush();
    for (KafkaShareConsumer<byte[], byte[]> c : consumers) {
      new Thread(() -> {
        try {
          consume(c, handlerMs, offsets);
        } finally {
          c.close();
          done.countDown();
        }
      }).start();
    }
    done.await();
  }

  static void consume(KafkaShareConsumer<byte[], byte[]> consumer, long handlerMs, boolean offsets) {
    try {
      for (;;) {
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(200));
        if (polled.isEmpty()) continue;
        first.compareAndSet(0, System.currentTimeMillis());
        Map<Integer, List<Long>> handled = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : polled) {
          if (handlerMs > 0) Thread.sleep(handlerMs);
          consumer.acknowledge(r, AcknowledgeType.ACCEPT);
          handled.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.offset());
        }
        Map<TopicIdPartition, Optional<KafkaException>> result = consumer.commitSync();
        StringBuilder out = new StringBuilder();
        int confirmed = 0;
        for (Map.Entry<TopicIdPartition, Optional<KafkaException>> e : result.entrySet()) {
          int partition = e.getKey().partition();
          List<Long> done = handled.getOrDefault(partition, List.of());
          if (e.getValue().isPresent()) {
            System.out.println("{\"failed\":\"" + e.getValue().get().getClass().getSimpleName() + "\"}");
            continue;
          }
          confirmed += done.size();
          if (offsets) {
            if (out.length() > 0) out.append(',');
            out.append('"').append(partition).append("\":").append(done);
          }
        }
        synchronized (System.out) {
          System.out.println(offsets ? "{\"accepted\":{" + out + "}}" : "{\"accepted\":" + confirmed + "}");
          System.out.flush();
        }
        accepted.addAndGet(confirmed);
        end.set(System.currentTimeMillis());
      }
    } catch (WakeupException e) {
      // stopping: close() acknowledges what is left and leaves the group
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
