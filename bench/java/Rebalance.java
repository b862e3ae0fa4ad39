// One Java member of the rebalance benchmark's group (bench/rebalance.ts), run as a single-file
// source program in its own JVM:
//   java -cp '.kafka/libs-<version>/*' bench/java/Rebalance.java 'bootstrap=...;topic=...;groupId=...;protocol=...;paused=...'
// It speaks what bench/clients/rebalance.ts speaks (see there): `up`, `owned` and `consumed` events
// out; go, mark, resume, count, quit in. The KafkaConsumer runs on the main thread; stdin on another.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class Rebalance {
  public static void main(String[] args) throws Exception {
    Map<String, String> spec = new HashMap<>();
    for (String kv : args[0].split(";")) spec.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    Properties p = new Properties();
    p.put("bootstrap.servers", spec.get("bootstrap"));
    p.put("group.id", spec.get("groupId"));
    p.put("auto.offset.reset", "earliest");
    p.put("enable.auto.commit", "true");
    p.put("auto.commit.interval.ms", "1000");
    p.put("group.protocol", spec.get("protocol"));
    if (spec.get("protocol").equals("classic")) {
      // as the kafkax member: cooperative rebalances, 1 s heartbeats, 10 s sessions
      p.put("partition.assignment.strategy", CooperativeStickyAssignor.class.getName());
      p.put("session.timeout.ms", "10000");
      p.put("heartbeat.interval.ms", "1000");
    }
    if (Boolean.parseBoolean(spec.get("standby"))) {
      // warmed up as a member of another group until it consumed a record: no first-run costs timed
      Properties warm = (Properties) p.clone();
      warm.put("group.id", spec.get("groupId") + "-warmup-" + ProcessHandle.current().pid());
      try (KafkaConsumer<byte[], byte[]> warmup = new KafkaConsumer<>(warm, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        warmup.subscribe(List.of(spec.get("topic")));
        while (warmup.poll(Duration.ofMillis(100)).isEmpty()) {}
      }
    }
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    ConcurrentLinkedQueue<String> commands = new ConcurrentLinkedQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in))) {
        for (String line; (line = in.readLine()) != null; ) {
          commands.add(line.trim());
          consumer.wakeup();
        }
      } catch (Exception e) {
        commands.add("quit");
      }
    });
    reader.setDaemon(true);
    reader.start();
    boolean[] paused = { Boolean.parseBoolean(spec.get("paused")) };
    Set<Integer> reported = new HashSet<>();
    long consumed = 0;
    System.out.println("{\"event\":\"up\"}");
    System.out.flush();
    // on standby: in the group only on `go`
    if (Boolean.parseBoolean(spec.get("standby"))) {
      for (String command = null; !"go".equals(command); ) {
        command = commands.poll();
        if ("quit".equals(command)) System.exit(0);
        if (command == null) Thread.sleep(1);
      }
    }
    consumer.subscribe(List.of(spec.get("topic")), new ConsumerRebalanceListener() {
      void owned() {
        String list = consumer.assignment().stream().map(tp -> String.valueOf(tp.partition())).collect(Collectors.joining(","));
        System.out.println("{\"event\":\"owned\",\"partitions\":[" + list + "]}");
        System.out.flush();
      }
      public void onPartitionsRevoked(Collection<TopicPartition> tps) { if (!tps.isEmpty()) owned(); }
      public void onPartitionsAssigned(Collection<TopicPartition> tps) {
        if (paused[0]) consumer.pause(tps);
        owned();
      }
    });
    loop:
    for (;;) {
      try {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          consumed++;
          if (reported.add(r.partition())) System.out.println("{\"event\":\"consumed\",\"partition\":" + r.partition() + "}");
        }
        System.out.flush();
      } catch (org.apache.kafka.common.errors.WakeupException e) {
        // a command came
      }
      for (String command; (command = commands.poll()) != null; ) {
        switch (command) {
          case "mark" -> reported.clear();
          case "resume" -> {
            paused[0] = false;
            consumer.resume(consumer.paused());
          }
          case "count" -> System.out.println("{\"event\":\"count\",\"records\":" + consumed + "}");
          case "quit" -> {
            break loop;
          }
          default -> {}
        }
        System.out.flush();
      }
    }
    consumer.close();
    System.out.println("{\"event\":\"count\",\"records\":" + consumed + "}");
    System.out.flush();
    System.exit(0);
  }
}
