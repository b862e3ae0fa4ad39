// Writes three transactions to partition 0 of a topic with the Java producer: the first committed
// (values committed-0..4), the second aborted (aborted-0..4), the third committed (committed-5..9).
// Usage: java -cp '.kafka/libs-4.3.1/*' scripts/java/AbortedTransaction.java <bootstrap> <topic>
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

public class AbortedTransaction {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        props.put("transactional.id", "kafkax-aborted-" + args[1]);
        props.put("key.serializer", StringSerializer.class.getName());
        props.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            producer.initTransactions();
            send(producer, args[1], "committed-", 0, true);
            send(producer, args[1], "aborted-", 0, false);
            send(producer, args[1], "committed-", 5, true);
        }
    }

    static void send(KafkaProducer<String, String> producer, String topic, String prefix, int from, boolean commit)
            throws Exception {
        producer.beginTransaction();
        for (int i = from; i < from + 5; i++) producer.send(new ProducerRecord<>(topic, 0, null, prefix + i)).get();
        if (commit) producer.commitTransaction();
        else producer.abortTransaction();
    }
}
