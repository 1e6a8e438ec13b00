package dev.hearth.server;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Level;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The chat page in a real browser (the distribution's Chromium, headless, driven by its
 * chromedriver): pick the model, send a message, watch the answer stream in, stop it (the
 * server's slot goes idle), reload and find the chat kept, start a new chat, render Markdown
 * safely, fit a phone's screen, and log no errors in the browser's console. Where CI=true it
 * fails if Chromium is missing; elsewhere it skips with the reason. With
 * -Dhearth.screenshot=FILE (relative to the repository root) it saves a screenshot of the page.
 */
class ChatPageBrowserTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final int MAX_TOKENS = 4000;

    private static Path firstExecutable(String property, String... candidates) {
        String given = System.getProperty(property);
        List<String> all = new ArrayList<>();
        if (given != null && !given.isBlank()) all.add(given);
        all.addAll(List.of(candidates));
        for (String c : all) if (Files.isExecutable(Path.of(c))) return Path.of(c);
        return null;
    }

    @Test
    void chatInTheBrowser() throws Exception {
        Path chromium = firstExecutable("hearth.chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium");
        Path chromedriver = firstExecutable("hearth.chromedriver", "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
        if (chromium == null || chromedriver == null) {
            String why = (chromium == null ? "chromium" : "chromedriver") + " is not installed (looked in /usr/bin and /usr/lib/chromium; "
                    + "-Dhearth.chromium and -Dhearth.chromedriver name other paths): run ci/install-chromium.sh";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(why);
            System.out.println("ChatPageBrowserTest skipped: " + why);
            Assumptions.abort(why);
        }
        ConcurrencyTest.Log log = new ConcurrencyTest.Log();
        Path profile = Files.createTempDirectory("hearth-chromium-");
        try (TestModel m = new TestModel(TestModel.stories(), 1, MAX_TOKENS + 96, TestModel.options().withLog(log.out))) {
            WebDriver driver = start(chromium, chromedriver, profile);
            try {
                session(driver, m, log);
                keyAndBusy(driver);
            } finally {
                driver.quit();
            }
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    private static WebDriver start(Path chromium, Path chromedriver, Path profile) {
        // Never let Selenium Manager look for a driver or browser on the network.
        System.setProperty("SE_OFFLINE", "true");
        System.setProperty("webdriver.chrome.driver", chromedriver.toString());
        ChromeOptions o = new ChromeOptions();
        o.setBinary(chromium.toFile());
        o.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--user-data-dir=" + profile, "--window-size=1280,860");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        o.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver.toFile()).usingAnyFreePort().build();
        WebDriver d = new ChromeDriver(service, o);
        d.manage().timeouts().pageLoadTimeout(WAIT).scriptTimeout(WAIT);
        return d;
    }

    private static void session(WebDriver d, TestModel m, ConcurrencyTest.Log log) throws Exception {
        WebDriverWait wait = new WebDriverWait(d, WAIT, Duration.ofMillis(20));
        d.get(m.base() + "/");
        wait.until(x -> "stories260K".equals(x.findElement(By.id("model")).getDomProperty("value")));
        assertEquals("Hearth chat", d.getTitle());

        // settings: a long answer, so that it can be stopped in the middle
        d.findElement(By.id("open-settings")).click();
        wait.until(x -> x.findElement(By.id("settings")).isDisplayed());
        setValue(d, "max-tokens", String.valueOf(MAX_TOKENS));
        setValue(d, "temperature", "1");
        d.findElement(By.id("save-settings")).click();
        wait.until(x -> !x.findElement(By.id("settings")).isDisplayed());

        // send with Enter: the answer streams in while the stop button shows
        WebElement prompt = d.findElement(By.id("prompt"));
        prompt.sendKeys("Tell me a story about a cat");
        prompt.sendKeys(Keys.ENTER);
        wait.until(x -> x.findElements(By.cssSelector(".msg.user .content")).size() == 1);
        assertEquals("Tell me a story about a cat", d.findElement(By.cssSelector(".msg.user .content")).getText());
        assertEquals("", prompt.getDomProperty("value"), "the box is emptied on send");
        int firstLength = wait.until(x -> {
            int n = answer(x).length();
            return n > 0 ? n : null;
        });
        assertTrue(d.findElement(By.id("stop")).isDisplayed(), "stop shows while the answer streams");
        assertFalse(d.findElement(By.id("send")).isDisplayed(), "send hides while the answer streams");
        wait.until(x -> answer(x).length() > firstLength);
        assertEquals("true", d.findElement(By.cssSelector(".msg.assistant")).getDomAttribute("aria-busy"));

        // stop: the page says so, and the server stops generating and frees its slot
        d.findElement(By.id("stop")).click();
        wait.until(x -> meta(x).contains("stopped"));
        assertTrue(meta(d).matches("stopped · about \\d+ tokens? · .*"), "a stopped answer counts the pieces it got: " + meta(d));
        int generated = log.cancelledAfter(WAIT.toMillis());
        System.out.println("ChatPageBrowserTest: stopped after " + generated + " of up to " + MAX_TOKENS + " tokens");
        assertTrue(generated < MAX_TOKENS - 100, "generation stopped early: " + generated + " tokens");
        ConcurrencyTest.awaitIdle(m, 1, WAIT.toMillis());
        assertTrue(d.findElement(By.id("send")).isDisplayed(), "send shows again after stop");
        String stoppedText = answer(d);
        assertFalse(stoppedText.isEmpty());
        Thread.sleep(300);
        assertEquals(stoppedText, answer(d), "no text arrives after stop");
        assertEquals("false", d.findElement(By.cssSelector(".msg.assistant")).getDomAttribute("aria-busy"));

        // a short answer that ends by itself shows its token count and speed
        d.findElement(By.id("open-settings")).click();
        wait.until(x -> x.findElement(By.id("settings")).isDisplayed());
        assertEquals(String.valueOf(MAX_TOKENS), d.findElement(By.id("max-tokens")).getDomProperty("value"), "settings are kept");
        setValue(d, "max-tokens", "24");
        d.findElement(By.id("save-settings")).click();
        wait.until(x -> !x.findElement(By.id("settings")).isDisplayed());
        prompt.sendKeys("And then?", Keys.ENTER);
        wait.until(x -> x.findElements(By.cssSelector(".msg.assistant")).size() == 2 && meta(x).contains("tokens/s"));
        java.util.regex.Matcher counted = java.util.regex.Pattern.compile("(\\d+) tokens? · [\\d.]+ tokens/s").matcher(meta(d));
        assertTrue(counted.find(), meta(d));
        int tokens = Integer.parseInt(counted.group(1));
        assertTrue(tokens >= 1 && tokens <= 24, "the max tokens setting was sent: " + meta(d));
        System.out.println("ChatPageBrowserTest: a short answer: " + meta(d));
        assertTrue(d.findElement(By.id("speed")).getText().matches("\\d+(\\.\\d)? tokens/s"), d.findElement(By.id("speed")).getText());
        String secondText = answer(d);
        assertFalse(secondText.isEmpty());
        assertEquals(2, d.findElements(By.cssSelector(".msg.user")).size());

        // reload: the chat is still there, with the stopped answer as it was
        d.navigate().refresh();
        wait.until(x -> x.findElements(By.cssSelector(".msg.assistant")).size() == 2);
        List<WebElement> answers = d.findElements(By.cssSelector(".msg.assistant .content"));
        assertEquals(stoppedText, answers.get(0).getText());
        assertEquals(secondText, answers.get(1).getText());
        assertTrue(d.findElements(By.cssSelector(".msg.assistant .meta")).getFirst().getText().contains("stopped"));
        assertEquals(1, d.findElements(By.cssSelector("#chat-list li")).size());
        assertEquals("Tell me a story about a cat", d.findElement(By.cssSelector("#chat-list li.current .open")).getText());

        // a new chat: an empty conversation; the old one stays in the list and opens again
        d.findElement(By.id("new-chat")).click();
        wait.until(x -> x.findElements(By.cssSelector(".msg")).isEmpty());
        assertTrue(d.findElement(By.cssSelector("#messages .empty")).isDisplayed());
        assertEquals(1, d.findElements(By.cssSelector("#chat-list li")).size());
        assertTrue(d.findElements(By.cssSelector("#chat-list li.current")).isEmpty());
        assertEquals(d.findElement(By.id("prompt")), d.switchTo().activeElement(), "focus goes to the message box");
        d.findElement(By.cssSelector("#chat-list li .open")).click();
        wait.until(x -> x.findElements(By.cssSelector(".msg.assistant")).size() == 2);

        labelled(d);
        keyboard(d, wait);
        markdown(d, wait);
        phone(d, wait);
        screenshot(d, wait);

        assertEquals(List.of(), consoleErrors(d), "errors in the browser's console");
        // the console is really read: an error written now is seen
        ((JavascriptExecutor) d).executeScript("console.error('console check')");
        assertTrue(consoleErrors(d).stream().anyMatch(e -> e.contains("console check")), "the browser's console could not be read");
    }

    /**
     * A server with a key and no queue: the page says a key is needed, works once it is given in
     * Settings, and says the server is busy (giving the message back to the box) when its one
     * slot is taken.
     */
    private static void keyAndBusy(WebDriver d) throws Exception {
        WebDriverWait wait = new WebDriverWait(d, WAIT, Duration.ofMillis(20));
        String key = "chat-page-key";
        try (TestModel m = new TestModel(TestModel.stories(), 1, 256, TestModel.options().withApiKey(key).withMaxQueue(0))) {
            d.get(m.base() + "/");
            wait.until(x -> x.findElement(By.id("error")).isDisplayed());
            assertTrue(d.findElement(By.id("error")).getText().contains("needs an API key"), d.findElement(By.id("error")).getText());
            d.findElement(By.id("open-settings")).click();
            wait.until(x -> x.findElement(By.id("settings")).isDisplayed());
            setValue(d, "api-key", key);
            d.findElement(By.id("save-settings")).click();
            wait.until(x -> "stories260K".equals(x.findElement(By.id("model")).getDomProperty("value")));
            wait.until(x -> !x.findElement(By.id("error")).isDisplayed());

            try (Socket busy = new Socket("127.0.0.1", m.server.port())) {
                busy.setSoTimeout((int) WAIT.toMillis());
                busy.getOutputStream().write(RawHttp.post("/v1/completions", ConcurrencyTest.LONG, "Authorization: Bearer " + key));
                busy.getOutputStream().flush();
                String status = new String(busy.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                assertEquals("HTTP/1.1 200", status);
                WebElement prompt = d.findElement(By.id("prompt"));
                prompt.sendKeys("Hello there", Keys.ENTER);
                wait.until(x -> x.findElement(By.id("error")).isDisplayed());
                assertTrue(d.findElement(By.id("error")).getText().contains("busy"), d.findElement(By.id("error")).getText());
                assertEquals("Hello there", prompt.getDomProperty("value"), "the message is given back to the box");
                assertTrue(d.findElements(By.cssSelector(".msg")).isEmpty(), "no half chat is kept");
                assertTrue(d.findElement(By.id("send")).isDisplayed());
            }
            ConcurrencyTest.awaitIdle(m, 1, WAIT.toMillis());
            d.findElement(By.id("prompt")).sendKeys(Keys.ENTER);
            wait.until(x -> meta(x).contains("tokens/s"));
            assertFalse(d.findElement(By.id("error")).isDisplayed(), "the error goes once a message is sent");
            assertFalse(answer(d).isEmpty());
        }
        // the refused requests are the only errors in the console
        List<String> errors = consoleErrors(d);
        errors.removeIf(e -> e.contains("Failed to load resource: the server responded with a status of 401")
                || e.contains("Failed to load resource: the server responded with a status of 503"));
        assertEquals(List.of(), errors, "errors in the browser's console");
    }

    /**
     * From the keyboard: Tab leaves the message box for the send button, Settings opens with
     * Enter and closes with Escape, focus comes back to where it was, and focus is drawn.
     */
    private static void keyboard(WebDriver d, WebDriverWait wait) {
        JavascriptExecutor js = (JavascriptExecutor) d;
        WebElement prompt = d.findElement(By.id("prompt"));
        prompt.click();
        d.switchTo().activeElement().sendKeys(Keys.TAB);
        assertEquals("send", d.switchTo().activeElement().getDomAttribute("id"), "Tab from the message box");
        WebElement open = d.findElement(By.id("open-settings"));
        js.executeScript("arguments[0].focus()", open);
        d.switchTo().activeElement().sendKeys(Keys.ENTER);
        wait.until(x -> x.findElement(By.id("settings")).isDisplayed());
        assertTrue((Boolean) js.executeScript("return document.getElementById('settings').contains(document.activeElement)"), "focus moves into Settings");
        d.switchTo().activeElement().sendKeys(Keys.ESCAPE);
        wait.until(x -> !x.findElement(By.id("settings")).isDisplayed());
        assertEquals("open-settings", d.switchTo().activeElement().getDomAttribute("id"), "focus comes back to the Settings button");
        d.switchTo().activeElement().sendKeys(Keys.TAB);
        String outline = (String) js.executeScript("return getComputedStyle(document.activeElement).outlineStyle");
        assertNotEquals("none", outline, "the focused element (" + d.switchTo().activeElement().getDomAttribute("id") + ") shows focus");
    }

    /** Every field has a label and every button a name, for screen readers and keyboard users. */
    @SuppressWarnings("unchecked")
    private static void labelled(WebDriver d) {
        List<String> unlabelled = (List<String>) ((JavascriptExecutor) d).executeScript("""
                const out = [];
                for (const e of document.querySelectorAll('input, select, textarea')) if (!e.labels || e.labels.length === 0) out.push(e.id);
                for (const b of document.querySelectorAll('button')) if (!(b.getAttribute('aria-label') || b.textContent.trim())) out.push(b.id || b.className);
                return out;
                """);
        assertEquals(List.of(), unlabelled, "fields without a label, buttons without a name");
    }

    private static List<String> consoleErrors(WebDriver d) {
        List<String> errors = new ArrayList<>();
        for (LogEntry e : d.manage().logs().get(LogType.BROWSER)) {
            if (e.getLevel().intValue() >= Level.SEVERE.intValue()) errors.add(e.getMessage());
        }
        return errors;
    }

    /** A chat put in local storage as the page keeps it: its answer is rendered as Markdown, escaped. */
    private static void markdown(WebDriver d, WebDriverWait wait) {
        String answer = String.join("\n",
                "Here is **bold**, *italic* and `inline <b>code</b>`.",
                "",
                "```java",
                "int x = a < b ? 1 : 2; // <script>alert(1)</script>",
                "```",
                "",
                "- one",
                "- two",
                "",
                "[safe](https://example.com) [unsafe](javascript:alert(1)) <img src=x onerror=alert(1)>");
        seed(d, "Markdown check", "Show me some Markdown", answer);
        d.navigate().refresh();
        wait.until(x -> !x.findElements(By.cssSelector(".msg.assistant pre code")).isEmpty());
        WebElement content = d.findElement(By.cssSelector(".msg.assistant .content"));
        assertEquals("int x = a < b ? 1 : 2; // <script>alert(1)</script>", content.findElement(By.cssSelector("pre code")).getText());
        assertEquals("bold", content.findElement(By.tagName("strong")).getText());
        assertEquals("italic", content.findElement(By.tagName("em")).getText());
        assertEquals("inline <b>code</b>", content.findElement(By.cssSelector("p code")).getText());
        assertEquals(2, content.findElements(By.cssSelector("ul li")).size());
        List<WebElement> links = content.findElements(By.tagName("a"));
        assertEquals(1, links.size(), "only the https link is a link");
        assertEquals("https://example.com/", links.getFirst().getDomProperty("href"));
        assertTrue(content.findElements(By.tagName("img")).isEmpty() && content.findElements(By.tagName("script")).isEmpty(), "HTML is shown as text");
        assertTrue(content.getText().contains("<img src=x onerror=alert(1)>"), content.getText());
    }

    /** On a phone-sized screen the side list folds away behind a button, and the message box stays in view. */
    private static void phone(WebDriver d, WebDriverWait wait) {
        Dimension desktop = d.manage().window().getSize();
        d.manage().window().setSize(new Dimension(390, 800));
        try {
            wait.until(x -> x.findElement(By.id("toggle-chats")).isDisplayed());
            assertFalse(d.findElement(By.id("sidebar")).isDisplayed(), "the side list is folded away");
            WebElement box = d.findElement(By.id("prompt"));
            assertTrue(box.isDisplayed());
            long viewport = ((Number) ((JavascriptExecutor) d).executeScript("return window.innerWidth")).longValue();
            long pageWidth = ((Number) ((JavascriptExecutor) d).executeScript("return document.documentElement.scrollWidth")).longValue();
            assertTrue(pageWidth <= viewport, "no sideways scrolling: " + pageWidth + " > " + viewport);
            d.findElement(By.id("toggle-chats")).click();
            wait.until(x -> x.findElement(By.id("sidebar")).isDisplayed());
            assertEquals("true", d.findElement(By.id("toggle-chats")).getDomAttribute("aria-expanded"));
            d.switchTo().activeElement().sendKeys(Keys.ESCAPE);
            wait.until(x -> !x.findElement(By.id("sidebar")).isDisplayed());
        } finally {
            d.manage().window().setSize(desktop);
        }
    }

    private static void screenshot(WebDriver d, WebDriverWait wait) throws Exception {
        String where = System.getProperty("hearth.screenshot");
        if (where == null || where.isBlank()) return;
        Path out = Path.of(where);
        if (!out.isAbsolute()) out = Path.of("..").resolve(out); // tests run in the module's folder
        String answer = String.join("\n",
                "Start the server on a model, then open this page:",
                "",
                "```sh",
                "./hearth serve -m stories260K.gguf --port 8080",
                "```",
                "",
                "From a program, call the **OpenAI-compatible** API:",
                "",
                "```python",
                "from openai import OpenAI",
                "client = OpenAI(base_url=\"http://127.0.0.1:8080/v1\", api_key=\"none\")",
                "reply = client.chat.completions.create(",
                "    model=\"stories260K\",",
                "    messages=[{\"role\": \"user\", \"content\": \"Hello\"}])",
                "print(reply.choices[0].message.content)",
                "```",
                "",
                "- `stream=True` gives the answer piece by piece",
                "- `/health` says whether a slot is free");
        seed(d, "How do I use the server?", "How do I use the server from Python?", answer);
        d.manage().window().setSize(new Dimension(1280, 860));
        d.navigate().refresh();
        wait.until(x -> !x.findElements(By.cssSelector(".msg.assistant pre code")).isEmpty());
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.write(out, ((TakesScreenshot) d).getScreenshotAs(OutputType.BYTES));
        System.out.println("ChatPageBrowserTest: screenshot written to " + out.toAbsolutePath().normalize());
    }

    /** Adds a finished chat to the page's local storage and makes it the current one. */
    private static void seed(WebDriver d, String title, String question, String answer) {
        ((JavascriptExecutor) d).executeScript("""
                const chats = JSON.parse(localStorage.getItem('hearth.chats') || '[]');
                const id = 'seed' + chats.length;
                chats.unshift({id, title: arguments[0], updated: Date.now(), messages: [
                  {role: 'user', content: arguments[1]},
                  {role: 'assistant', content: arguments[2], state: 'done'}]});
                localStorage.setItem('hearth.chats', JSON.stringify(chats));
                localStorage.setItem('hearth.current', JSON.stringify(id));
                """, title, question, answer);
    }

    private static void setValue(WebDriver d, String id, String value) {
        WebElement e = d.findElement(By.id(id));
        e.clear();
        e.sendKeys(value);
        assertEquals(value, e.getDomProperty("value"));
    }

    /** The text of the last answer on the page. */
    private static String answer(WebDriver d) {
        List<WebElement> a = d.findElements(By.cssSelector(".msg.assistant .content"));
        return a.isEmpty() ? "" : a.getLast().getText();
    }

    private static String meta(WebDriver d) {
        List<WebElement> a = d.findElements(By.cssSelector(".msg.assistant .meta"));
        return a.isEmpty() ? "" : a.getLast().getText();
    }
}
