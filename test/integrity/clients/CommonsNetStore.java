import java.io.ByteArrayInputStream;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPSClient;
import org.apache.commons.net.util.TrustManagerUtils;

/**
 * One upload with Apache Commons Net's FTPSClient (explicit FTPS, PROT P, passive), as a
 * Java partner's code does it: storeFile, then the reply. The TLS version is the JVM's
 * (-Djdk.tls.client.protocols=TLSv1.2 or TLSv1.3).
 * Usage: java -cp commons-net.jar CommonsNetStore.java PORT USER PASSWORD NAME SIZE
 * Prints "stored" or "refused", then the server's reply. The bytes are (i % 251).
 */
public class CommonsNetStore {
  public static void main(String[] args) throws Exception {
    FTPSClient client = new FTPSClient("TLS", false);
    client.setTrustManager(TrustManagerUtils.getAcceptAllTrustManager());
    client.connect("127.0.0.1", Integer.parseInt(args[0]));
    if (!client.login(args[1], args[2])) throw new IllegalStateException("login: " + client.getReplyString());
    client.execPBSZ(0);
    client.execPROT("P");
    client.enterLocalPassiveMode();
    client.setFileType(FTP.BINARY_FILE_TYPE);
    byte[] data = new byte[Integer.parseInt(args[4])];
    for (int i = 0; i < data.length; i++) data[i] = (byte) (i % 251);
    boolean stored = client.storeFile(args[3], new ByteArrayInputStream(data));
    System.out.println((stored ? "stored " : "refused ") + client.getReplyString().trim());
    client.logout();
    client.disconnect();
  }
}
