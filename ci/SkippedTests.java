import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Prints the tests that surefire skipped, with their reasons, from the XML reports under the
 * folders given (only reports newer than the file named by --since, where given): ci/test runs it
 * at its end so that a skipped test shows on the console, not only in the reports.
 */
public class SkippedTests {
    public static void main(String[] args) throws Exception {
        long since = 0;
        List<Path> roots = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--since")) since = Files.getLastModifiedTime(Path.of(args[++i])).toMillis();
            else roots.add(Path.of(args[i]));
        }
        Map<String, List<String>> byReason = new TreeMap<>();
        int tests = 0, skipped = 0, reports = 0;
        var factory = DocumentBuilderFactory.newInstance();
        for (Path root : roots) {
            List<Path> files;
            try (Stream<Path> s = Files.walk(root)) {
                files = s.filter(p -> p.getFileName().toString().matches("TEST-.*\\.xml")
                        && p.getParent() != null && p.getParent().getFileName().toString().equals("surefire-reports")).sorted().toList();
            }
            for (Path f : files) {
                if (Files.getLastModifiedTime(f).toMillis() < since) continue;
                reports++;
                NodeList cases = factory.newDocumentBuilder().parse(f.toFile()).getElementsByTagName("testcase");
                for (int i = 0; i < cases.getLength(); i++) {
                    Element c = (Element) cases.item(i);
                    tests++;
                    NodeList s = c.getElementsByTagName("skipped");
                    if (s.getLength() == 0) continue;
                    skipped++;
                    Element sk = (Element) s.item(0);
                    String reason = sk.getAttribute("message").strip();
                    if (reason.isEmpty()) {
                        // some skips (dynamic tests) carry the reason only as the exception's text
                        String text = sk.getTextContent().strip();
                        reason = text.lines().findFirst().orElse("")
                                .replaceFirst("^org\\.opentest4j\\.TestAbortedException: ", "").replaceFirst("^Assumption failed: ", "").strip();
                    }
                    if (reason.isEmpty()) reason = "(no reason given)";
                    String cls = c.getAttribute("classname");
                    byReason.computeIfAbsent(reason, r -> new ArrayList<>())
                            .add(cls.substring(cls.lastIndexOf('.') + 1) + "." + c.getAttribute("name"));
                }
            }
        }
        System.out.println("ci/test: " + tests + " tests in " + reports + " reports, " + skipped + " skipped"
                + (skipped == 0 ? "" : ":"));
        for (var e : byReason.entrySet()) {
            List<String> names = e.getValue();
            if (names.size() == 1) {
                System.out.println("  " + names.getFirst() + ": " + e.getKey());
                continue;
            }
            String shown = String.join(", ", names.subList(0, Math.min(4, names.size())))
                    + (names.size() > 4 ? ", ... (" + (names.size() - 4) + " more)" : "");
            System.out.println("  " + names.size() + " skipped: " + e.getKey());
            System.out.println("      " + shown);
        }
    }
}
