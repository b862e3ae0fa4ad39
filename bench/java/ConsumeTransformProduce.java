// Consume-transform-produce with the Java client (kafka-clients), run as a single-file source program:
//   java -cp '.kafka/libs-<version>/*' bench/java/ConsumeTransformProduce.java '<key=value;...>'
// The loop bench/clients/transactions.ts runs with the kafkax Consumer's exactlyOnce option, written
// as a Java user writes it (and Kafka Streams does under exactly-once): a read_committed consumer in
// a group, a transactional producer; each polled record is written to `output`, and the transaction
// commits with the consumed offsets and the consumer's group metadata (KIP-447) after `per` records,
// or `durationMs` after it began. The clock runs from creating the consumer (group join included) to
// the commit of the last transaction. Prints one JSON line.

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class ConsumeTransformProduce {
  public static void main(String[] args) throws Exception {
    Map<String, String> spec = new HashMap<>();
    for (String kv : args[0].split(";")) spec.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    Properties p = new Properties();
    p.put("bootstrap.servers", spec.get("bootstrap"));
    p.put("acks", "all");
    p.put("compression.type", spec.get("compression"));
    p.put("linger.ms", spec.get("lingerMs"));
    p.put("batch.size", spec.get("batchBytes"));
    p.put("buffer.memory", String.valueOf(64 * 1024 * 1024));
    p.put("transactional.id", spec.get("transactionalId"));
    Properties c = new Properties();
    c.put("bootstrap.servers", spec.get("bootstrap"));
    c.put("group.id", spec.get("groupId"));
    c.put("auto.offset.reset", "earliest");
    c.put("enable.auto.commit", "false");
    c.put("isolation.level", "read_committed");
    c.put("fetch.max.wait.ms", "500");
    String input = spec.get("topic");
    String output = spec.get("output");
    int records = Integer.parseInt(spec.get("records"));
    int size = Integer.parseInt(spec.get("size"));
    int per = Integer.parseInt(spec.getOrDefault("per", "0"));
    long durationNanos = Long.parseLong(spec.getOrDefault("durationMs", "0")) * 1_000_000L;
    AtomicReference<Exception> failure = new AtomicReference<>();
    Callback callback = (metadata, error) -> {
      if (error != null) failure.compareAndSet(null, error);
    };
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      long cpu0 = cpuNanos();
      long t0 = System.nanoTime();
      int consumed = 0;
      int transactions = 0;
      try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        consumer.subscribe(List.of(input));
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        boolean open = false;
        int inTransaction = 0;
        long began = 0;
        while (consumed < records) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
            if (!open) {
              producer.beginTransaction();
              open = true;
              inTransaction = 0;
              began = System.nanoTime();
            }
            producer.send(new ProducerRecord<>(output, r.key(), r.value()), callback);
            offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
            consumed++;
            if ((per > 0 && ++inTransaction >= per) || consumed == records) {
              commit(producer, consumer, offsets);
              open = false;
              transactions++;
            }
          }
          if (open && per == 0 && System.nanoTime() - began >= durationNanos) {
            commit(producer, consumer, offsets);
            open = false;
            transactions++;
          }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpu = (cpuNanos() - cpu0) / 1e9;
        if (failure.get() != null) throw failure.get();
        System.out.printf(Locale.ROOT,
            "{\"seconds\":%.4f,\"records\":%d,\"transactions\":%d,\"recordsPerSec\":%.1f,\"mbPerSec\":%.3f,\"transactionsPerSec\":%.2f,\"timedCpuSeconds\":%.3f}%n",
            seconds, consumed, transactions, consumed / seconds, consumed * size / seconds / 1e6, transactions / seconds, cpu);
      }
    }
  }

  static void commit(KafkaProducer<byte[], byte[]> producer, KafkaConsumer<byte[], byte[]> consumer,
      Map<TopicPartition, OffsetAndMetadata> offsets) {
    producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
    producer.commitTransaction();
    offsets.clear();
  }

  /** CPU time of every thread of this JVM (the clients' I/O threads included). */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }
}
