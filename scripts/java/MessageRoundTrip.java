// Reads `<MessageName> <version> <base64 body>` lines on stdin; for each, parses the body with the
// Java client's own generated message class (org.apache.kafka.common.message.<Name>[Data]) and
// prints the body it serializes back (base64), or `ERROR <reason>` — also when bytes are left over.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.util.Base64;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.protocol.Readable;

public class MessageRoundTrip {
    static Class<?> messageClass(String name) throws ClassNotFoundException {
        try {
            return Class.forName("org.apache.kafka.common.message." + name + "Data");
        } catch (ClassNotFoundException e) {
            return Class.forName("org.apache.kafka.common.message." + name);
        }
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringBuilder out = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            String[] parts = line.split(" ", -1);
            try {
                short version = Short.parseShort(parts[1]);
                ByteBuffer body = ByteBuffer.wrap(Base64.getDecoder().decode(parts[2]));
                Message message = (Message) messageClass(parts[0])
                    .getConstructor(Readable.class, short.class)
                    .newInstance(new ByteBufferAccessor(body), version);
                if (body.hasRemaining()) throw new IllegalStateException(body.remaining() + " bytes left over");
                ByteBuffer written = MessageUtil.toByteBufferAccessor(message, version).buffer();
                byte[] bytes = new byte[written.remaining()];
                written.get(bytes);
                out.append(Base64.getEncoder().encodeToString(bytes)).append('\n');
            } catch (Throwable e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                out.append("ERROR ").append(cause.toString().replace('\n', ' ')).append('\n');
            }
        }
        System.out.print(out);
    }
}
