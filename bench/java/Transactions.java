// Transactional produce with the Java client (kafka-clients), run as a single-file source program:
//   java -cp '.kafka/libs-<version>/*' bench/java/Transactions.java '<key=value;...>'
// The loop bench/clients/transactions.ts runs with kafkax: `records` records in transactions of `per`
// records each (begin, send them all asynchronously, commitTransaction, which flushes), after one
// warm-up transaction. Payloads are the lines of `payloadFile` (bench/lib/payload.ts). Prints one JSON line.

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class Transactions {
  public static void main(String[] args) throws Exception {
    Map<String, String> spec = new HashMap<>();
    for (String kv : args[0].split(";")) spec.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    List<byte[]> payloads = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(spec.get("payloadFile")))) if (!line.isEmpty()) payloads.add(line.getBytes());
    Properties p = new Properties();
    p.put("bootstrap.servers", spec.get("bootstrap"));
    p.put("acks", "all");
    p.put("compression.type", spec.get("compression"));
    p.put("linger.ms", spec.get("lingerMs"));
    p.put("batch.size", spec.get("batchBytes"));
    p.put("buffer.memory", String.valueOf(64 * 1024 * 1024));
    p.put("transactional.id", spec.get("transactionalId"));
    String topic = spec.get("topic");
    int records = Integer.parseInt(spec.get("records"));
    int per = Integer.parseInt(spec.get("per"));
    AtomicLong acked = new AtomicLong();
    AtomicReference<Exception> failure = new AtomicReference<>();
    Callback callback = (metadata, error) -> {
      if (error != null) failure.compareAndSet(null, error);
      else acked.incrementAndGet();
    };
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < 100; i++) producer.send(new ProducerRecord<>(topic, payloads.get(i % payloads.size())), callback);
      producer.commitTransaction();
      acked.set(0);
      long cpu0 = cpuNanos();
      long t0 = System.nanoTime();
      int sent = 0;
      int transactions = 0;
      while (sent < records) {
        producer.beginTransaction();
        for (int i = 0; i < per && sent < records; i++, sent++)
          producer.send(new ProducerRecord<>(topic, payloads.get(sent % payloads.size())), callback);
        producer.commitTransaction();
        transactions++;
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      double cpu = (cpuNanos() - cpu0) / 1e9;
      if (failure.get() != null) throw failure.get();
      if (acked.get() != records) throw new IllegalStateException(acked.get() + " of " + records + " records acknowledged");
      int size = payloads.get(0).length;
      System.out.printf(Locale.ROOT,
          "{\"seconds\":%.4f,\"records\":%d,\"transactions\":%d,\"recordsPerSec\":%.1f,\"mbPerSec\":%.3f,\"transactionsPerSec\":%.2f,\"timedCpuSeconds\":%.3f}%n",
          seconds, records, transactions, records / seconds, records * size / seconds / 1e6, transactions / seconds, cpu);
    }
  }

  /** CPU time of every thread of this JVM (the client's I/O thread included). */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }
}
