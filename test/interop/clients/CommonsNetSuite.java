/*
 * Apache Commons Net (FTPClient, FTPSClient) against the bridge: upload, list,
 * download, rename, delete, each case a session of its own.
 *
 * Run from source, no build step (Java 11+ single-file launch):
 *   java -cp /usr/share/java/commons-net.jar [-Djdk.tls.client.protocols=TLSv1.3] \
 *        CommonsNetSuite.java --list
 *   java -cp ... CommonsNetSuite.java --mode plain|explicit|implicit --host H --port P
 *        --root /folder [--cafile cert.pem] --user U --password PW
 *
 * The TLS version is the JVM's (-Djdk.tls.client.protocols), as an application sets
 * it; the cases report the version the control connection negotiated. TLS trusts
 * only --cafile and checks the server's name (endpoint identification).
 *
 * The test puts the files the download, list, rename and delete cases work on into
 * the bucket first (so no case depends on another's success); every case prints one
 * JSON line on stdout: {"case", "ok", "detail", "ms", "protocol", "facts", "transcript"}
 * where facts are what the test checks (digests, listings) and transcript is the
 * FTP conversation (PrintCommandListener, password hidden).
 */

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.apache.commons.net.PrintCommandListener;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.apache.commons.net.ftp.FTPFile;
import org.apache.commons.net.ftp.FTPReply;
import org.apache.commons.net.ftp.FTPSClient;

public class CommonsNetSuite {
    static final String[] CASES = {"upload (storeFile)", "list (listFiles, listNames)", "download (retrieveFile)", "rename", "delete"};
    static final int TIMEOUT_MS = 20_000;
    static final int UPLOAD_SIZE = (1 << 20) + 17;

    /** FTPSClient with the negotiated TLS version of the control connection in view. */
    static final class Ftps extends FTPSClient {
        Ftps(boolean implicit) {
            super("TLS", implicit);
        }

        String protocol() {
            return _socket_ instanceof SSLSocket ? ((SSLSocket) _socket_).getSession().getProtocol() : "none";
        }
    }

    static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    final Map<String, String> options;
    final String mode;
    final String root;

    CommonsNetSuite(Map<String, String> options) {
        this.options = options;
        this.mode = options.getOrDefault("mode", "plain");
        this.root = options.getOrDefault("root", "/commons-net").replaceAll("/+$", "");
    }

    static void check(boolean condition, String message) throws Failure {
        if (!condition) throw new Failure(message);
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    /** Trusts exactly the certificate(s) in the PEM file: the bridge's test certificate. */
    X509TrustManager trustManager() throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = new FileInputStream(options.get("cafile"))) {
            int index = 0;
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("bridge-" + index++, certificate);
            }
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager) return (X509TrustManager) manager;
        }
        throw new IllegalStateException("no X509TrustManager");
    }

    /** Connected, logged in, binary, passive; with TLS: PBSZ 0 and PROT P. */
    FTPClient open(StringWriter transcript) throws Exception {
        FTPClient ftp;
        if (mode.equals("plain")) {
            ftp = new FTPClient();
        } else {
            Ftps ftps = new Ftps(mode.equals("implicit"));
            ftps.setTrustManager(trustManager());
            ftps.setEndpointCheckingEnabled(true);
            ftp = ftps;
        }
        ftp.addProtocolCommandListener(new PrintCommandListener(new PrintWriter(transcript, true), true));
        ftp.setControlEncoding("UTF-8");
        ftp.setConnectTimeout(TIMEOUT_MS);
        ftp.setDefaultTimeout(TIMEOUT_MS);
        ftp.setDataTimeout(java.time.Duration.ofMillis(TIMEOUT_MS));
        ftp.connect(options.get("host"), Integer.parseInt(options.get("port")));
        check(FTPReply.isPositiveCompletion(ftp.getReplyCode()), "greeting: " + ftp.getReplyString());
        check(ftp.login(options.get("user"), options.get("password")), "login: " + ftp.getReplyString());
        if (ftp instanceof FTPSClient) {
            FTPSClient ftps = (FTPSClient) ftp;
            ftps.execPBSZ(0);
            ftps.execPROT("P");
            check(ftps.getReplyCode() == 200, "PROT P: " + ftps.getReplyString());
        }
        check(ftp.setFileType(FTP.BINARY_FILE_TYPE), "TYPE I: " + ftp.getReplyString());
        ftp.enterLocalPassiveMode();
        return ftp;
    }

    static void close(FTPClient ftp) {
        try {
            if (ftp.isConnected()) {
                ftp.logout();
                ftp.disconnect();
            }
        } catch (Exception ignored) {
            // the case's outcome is already decided
        }
    }

    /** One case: its own session; returns the facts the test checks. */
    Map<String, Object> runCase(String name, FTPClient ftp) throws Exception {
        Map<String, Object> facts = new LinkedHashMap<>();
        switch (name) {
            case "upload (storeFile)": {
                byte[] data = new byte[UPLOAD_SIZE];
                new Random(UPLOAD_SIZE).nextBytes(data);
                boolean stored = ftp.storeFile(root + "/upload.bin", new ByteArrayInputStream(data));
                check(stored && ftp.getReplyCode() == 226, "storeFile: " + ftp.getReplyString().trim());
                facts.put("path", root + "/upload.bin");
                facts.put("size", data.length);
                facts.put("sha256", sha256(data));
                break;
            }
            case "list (listFiles, listNames)": {
                List<String> entries = new ArrayList<>();
                for (FTPFile file : ftp.listFiles(root + "/listing")) {
                    entries.add(file.getName() + " " + (file.isDirectory() ? "dir" : file.getSize()));
                }
                check(FTPReply.isPositiveCompletion(ftp.getReplyCode()), "listFiles: " + ftp.getReplyString().trim());
                String[] names = ftp.listNames(root + "/listing");
                check(names != null, "listNames: " + ftp.getReplyString().trim());
                List<String> bare = new ArrayList<>();
                for (String n : names) bare.add(n.substring(n.lastIndexOf('/') + 1));
                facts.put("entries", entries);
                facts.put("names", bare);
                break;
            }
            case "download (retrieveFile)": {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                boolean retrieved = ftp.retrieveFile(root + "/download.bin", out);
                check(retrieved && ftp.getReplyCode() == 226, "retrieveFile: " + ftp.getReplyString().trim());
                facts.put("size", out.size());
                facts.put("sha256", sha256(out.toByteArray()));
                break;
            }
            case "rename": {
                check(ftp.rename(root + "/rename-me.txt", root + "/renamed ünï.txt"), "rename: " + ftp.getReplyString().trim());
                check(!ftp.rename(root + "/no such file.txt", root + "/x.txt"), "rename of a missing file should fail");
                check(ftp.getReplyCode() == 550, "rename of a missing file: " + ftp.getReplyString().trim());
                break;
            }
            case "delete": {
                check(ftp.deleteFile(root + "/delete-me.txt"), "deleteFile: " + ftp.getReplyString().trim());
                check(!ftp.deleteFile(root + "/delete-me.txt"), "deleting it again should fail");
                check(ftp.getReplyCode() == 550, "deleting it again: " + ftp.getReplyString().trim());
                break;
            }
            default:
                throw new Failure("no such case: " + name);
        }
        return facts;
    }

    void runAll() throws Exception {
        for (String name : CASES) {
            StringWriter transcript = new StringWriter();
            long started = System.currentTimeMillis();
            boolean ok = true;
            String detail = "";
            String protocol = "none";
            Map<String, Object> facts = new HashMap<>();
            FTPClient ftp = null;
            try {
                ftp = open(transcript);
                if (ftp instanceof Ftps) protocol = ((Ftps) ftp).protocol();
                facts = runCase(name, ftp);
            } catch (Exception error) {
                ok = false;
                StringWriter trace = new StringWriter();
                error.printStackTrace(new PrintWriter(trace));
                detail = String.join("\n", trace.toString().lines().limit(8).toList());
            } finally {
                if (ftp != null) close(ftp);
            }
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("case", name);
            line.put("ok", ok);
            line.put("detail", detail);
            line.put("ms", System.currentTimeMillis() - started);
            line.put("protocol", protocol);
            line.put("facts", facts);
            String text = transcript.toString();
            line.put("transcript", text.length() > 8000 ? text.substring(text.length() - 8000) : text);
            System.out.println(json(line));
            System.out.flush();
        }
    }

    // ------------------------------------------------------------------ JSON out

    static String json(Object value) {
        if (value == null) return "null";
        if (value instanceof Boolean || value instanceof Number) return value.toString();
        if (value instanceof Map) {
            List<String> fields = new ArrayList<>();
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) fields.add(json(entry.getKey().toString()) + ":" + json(entry.getValue()));
            return "{" + String.join(",", fields) + "}";
        }
        if (value instanceof List) {
            List<String> items = new ArrayList<>();
            for (Object item : (List<?>) value) items.add(json(item));
            return "[" + String.join(",", items) + "]";
        }
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toString().toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--list")) {
            System.out.println(json(List.of(CASES)));
            return;
        }
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        new CommonsNetSuite(options).runAll();
    }
}
