// Reads one case per line on stdin and prints what the Java consumer makes of it: the JoinGroup /
// SyncGroup metadata it writes (hex; ConsumerProtocol.serializeSubscription / serializeAssignment), or
// the assignment its assignor computes (run with -Dlog4j2.level=OFF: the sticky assignor logs to stdout).
//   sub <version|default> <topics> <owned> <generationId> <rack> <userData>
//   asg <version|default> <partitions> <userData>
//   assign <range|roundrobin|cooperative-sticky> <topic=count,...|-> <member>;<member>...
//     member: <memberId>/<groupInstanceId or empty>/<topics>/<owned>/<generationId>
//     prints each member's partitions (sorted, as <owned>), members in input order, joined by ';'
// topics: a,b or -; owned/partitions: topic:partition items joined by ',' (in the order given) or -;
// rack: ~ for none; userData: ~ for null, else x<hex>. A failing case prints `ERROR <reason>`.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.consumer.internals.AbstractPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;

public class ConsumerProtocolVectors {
    static List<String> topics(String s) {
        return s.equals("-") ? List.of() : Arrays.asList(s.split(","));
    }

    static List<TopicPartition> partitions(String s) {
        List<TopicPartition> out = new ArrayList<>();
        if (s.equals("-")) return out;
        for (String item : s.split(",")) {
            int colon = item.lastIndexOf(':');
            out.add(new TopicPartition(item.substring(0, colon), Integer.parseInt(item.substring(colon + 1))));
        }
        return out;
    }

    static ByteBuffer userData(String s) {
        return s.equals("~") ? null : ByteBuffer.wrap(HexFormat.of().parseHex(s.substring(1)));
    }

    static String hex(ByteBuffer b) {
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    static String assign(String[] f) {
        AbstractPartitionAssignor assignor = switch (f[1]) {
            case "range" -> new RangeAssignor();
            case "roundrobin" -> new RoundRobinAssignor();
            default -> new CooperativeStickyAssignor();
        };
        Map<String, Integer> partitionsPerTopic = new HashMap<>();
        for (String t : topics(f[2])) partitionsPerTopic.put(t.split("=")[0], Integer.parseInt(t.split("=")[1]));
        Map<String, Subscription> subscriptions = new LinkedHashMap<>();
        for (String m : f[3].split(";")) {
            String[] x = m.split("/", -1);
            Subscription s = new Subscription(topics(x[2]), null, partitions(x[3]), Integer.parseInt(x[4]), Optional.empty());
            s.setGroupInstanceId(x[1].isEmpty() ? Optional.empty() : Optional.of(x[1]));
            subscriptions.put(x[0], s);
        }
        Map<String, List<TopicPartition>> result = assignor.assign(partitionsPerTopic, subscriptions);
        return subscriptions.keySet().stream()
            .map(id -> result.get(id).stream()
                .sorted(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition))
                .map(tp -> tp.topic() + ":" + tp.partition())
                .collect(Collectors.joining(",")))
            .collect(Collectors.joining(";"));
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringBuilder out = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            String[] f = line.split(" ", -1);
            try {
                if (f[0].equals("assign")) {
                    out.append(assign(f)).append('\n');
                    continue;
                }
                boolean byDefault = f[1].equals("default");
                short version = byDefault ? 0 : Short.parseShort(f[1]);
                ByteBuffer bytes;
                if (f[0].equals("sub")) {
                    Optional<String> rack = f[5].equals("~") ? Optional.empty() : Optional.of(f[5]);
                    Subscription s = new Subscription(topics(f[2]), userData(f[6]), partitions(f[3]), Integer.parseInt(f[4]), rack);
                    bytes = byDefault ? ConsumerProtocol.serializeSubscription(s) : ConsumerProtocol.serializeSubscription(s, version);
                } else {
                    Assignment a = new Assignment(partitions(f[2]), userData(f[3]));
                    bytes = byDefault ? ConsumerProtocol.serializeAssignment(a) : ConsumerProtocol.serializeAssignment(a, version);
                }
                out.append(hex(bytes)).append('\n');
            } catch (Throwable e) {
                out.append("ERROR ").append(e.toString().replace('\n', ' ')).append('\n');
            }
        }
        System.out.print(out);
    }
}
