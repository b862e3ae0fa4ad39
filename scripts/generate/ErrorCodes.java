// Prints Kafka's error table from the kafka-clients jar itself: code, name, retriable, message (TSV).
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;

public class ErrorCodes {
    public static void main(String[] args) {
        for (Errors e : Errors.values()) {
            boolean retriable = e.exception() instanceof RetriableException;
            String message = e.message() == null ? "" : e.message().replace('\t', ' ').replace('\n', ' ');
            System.out.println(e.code() + "\t" + e.name() + "\t" + retriable + "\t" + message);
        }
    }
}
