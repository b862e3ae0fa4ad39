// Reads hex keys (one a line) on stdin and prints, per key, the Java client's Utils.murmur2 and the
// partition BuiltInPartitioner.partitionForKey gives for 1..12 partitions (TSV).
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.HexFormat;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

public class Murmur2Vectors {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringBuilder out = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            byte[] key = HexFormat.of().parseHex(line.trim());
            out.append(line.trim()).append('\t').append(Utils.murmur2(key));
            for (int n = 1; n <= 12; n++) out.append('\t').append(BuiltInPartitioner.partitionForKey(key, n));
            out.append('\n');
        }
        System.out.print(out);
    }
}
