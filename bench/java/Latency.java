// Latency harness for the Java client (kafka-clients), run as a single-file source program:
//   java -cp '.kafka/libs-<version>/*' bench/java/Latency.java <mode> '<key=value;...>'
// Modes, as the Node clients in bench/clients do them:
//   sequential  `records` awaited sends one after another (send().get()): the round trip
//   rate        `rate` records/s for `seconds`, in bursts every millisecond; latency send -> ack callback
//   e2e         the same rate through a consumer in a group: latency send -> poll() returned the record
// Payloads are the lines of `payloadFile` (bench/lib/payload.ts). Prints one JSON line.

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class Latency {
  static Map<String, String> spec = new HashMap<>();
  static List<byte[]> payloads = new ArrayList<>();
  static final ConcurrentLinkedQueue<Double> latencies = new ConcurrentLinkedQueue<>();

  public static void main(String[] args) throws Exception {
    for (String kv : args[1].split(";")) spec.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    for (String line : Files.readAllLines(Path.of(spec.get("payloadFile")))) if (!line.isEmpty()) payloads.add(line.getBytes());
    Properties p = new Properties();
    p.put("bootstrap.servers", spec.get("bootstrap"));
    p.put("acks", spec.get("acks"));
    p.put("compression.type", spec.get("compression"));
    p.put("linger.ms", spec.get("lingerMs"));
    p.put("batch.size", spec.get("batchBytes"));
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    String topic = spec.get("topic");
    int records = Integer.parseInt(spec.get("records"));
    int total = (int) Math.round(Double.parseDouble(spec.get("rate")) * Double.parseDouble(spec.get("seconds")));
    for (int i = 0; i < 100; i++) producer.send(new ProducerRecord<>(topic, stamped(i, -1))).get(); // warm-up
    long cpu0 = cpuNanos();
    long t0 = System.nanoTime();
    int sent;
    switch (args[0]) {
      case "sequential" -> {
        for (int i = 0; i < records; i++) {
          long s = System.nanoTime();
          producer.send(new ProducerRecord<>(topic, payloads.get(i % payloads.size()))).get();
          latencies.add((System.nanoTime() - s) / 1e6);
        }
        sent = records;
      }
      case "rate" -> {
        CountDownLatch acked = new CountDownLatch(total);
        paced(total, i -> {
          long s = System.nanoTime();
          producer.send(new ProducerRecord<>(topic, payloads.get(i % payloads.size())), (m, e) -> {
            latencies.add((System.nanoTime() - s) / 1e6);
            acked.countDown();
          });
        });
        acked.await();
        sent = total;
      }
      case "e2e" -> {
        CountDownLatch received = new CountDownLatch(total);
        CountDownLatch warmed = new CountDownLatch(1);
        AtomicBoolean stop = new AtomicBoolean();
        Thread poller = new Thread(() -> consume(topic, received, warmed, stop));
        poller.start();
        while (!warmed.await(50, TimeUnit.MILLISECONDS)) producer.send(new ProducerRecord<>(topic, stamped(0, -1)));
        cpu0 = cpuNanos();
        t0 = System.nanoTime();
        paced(total, i -> producer.send(new ProducerRecord<>(topic, stamped(i, System.nanoTime() / 1e6))));
        received.await(15, TimeUnit.SECONDS); // then report what arrived, as the Node e2e client
        stop.set(true);
        poller.join();
        sent = total;
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpuSeconds = (cpuNanos() - cpu0) / 1e9;
    producer.close();
    double[] l = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    System.out.printf(Locale.ROOT,
        "{\"seconds\":%f,\"records\":%d,\"missing\":%d,\"recordsPerSec\":%f,\"p50Ms\":%f,\"p99Ms\":%f,\"p999Ms\":%f,\"timedCpuSeconds\":%f}%n",
        seconds, l.length, sent - l.length, l.length / seconds, at(l, 0.5), at(l, 0.99), at(l, 0.999), cpuSeconds);
  }

  static void consume(String topic, CountDownLatch received, CountDownLatch warmed, AtomicBoolean stop) {
    Properties c = new Properties();
    c.put("bootstrap.servers", spec.get("bootstrap"));
    c.put("group.id", spec.get("groupId"));
    c.put("auto.offset.reset", "earliest");
    c.put("fetch.max.wait.ms", "500");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      while (!stop.get()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          double sentMs = ByteBuffer.wrap(r.value()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getDouble(0);
          if (sentMs < 0) warmed.countDown();
          else {
            latencies.add(System.nanoTime() / 1e6 - sentMs);
            received.countDown();
          }
        }
      }
    }
  }

  /** A payload whose first 8 bytes carry the send time in ms (little-endian double), as the Node e2e client. */
  static byte[] stamped(int i, double atMs) {
    byte[] v = payloads.get(i % payloads.size()).clone();
    ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN).putDouble(0, atMs);
    return v;
  }

  /** Calls send(i) `total` times at `rate` per second, in bursts every millisecond. */
  static void paced(int total, java.util.function.IntConsumer send) throws InterruptedException {
    double rate = Double.parseDouble(spec.get("rate"));
    long start = System.nanoTime();
    int sent = 0;
    while (sent < total) {
      int due = (int) Math.min(total, Math.floor((System.nanoTime() - start) / 1e9 * rate) + 1);
      while (sent < due) send.accept(sent++);
      Thread.sleep(1);
    }
  }

  static double at(double[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
  }

  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }
}
