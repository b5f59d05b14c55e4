package io.ringtmp.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Opens a page in a real headless Chromium (Debian's {@code chromium}, installed by
 * {@code scripts/env.sh} for the test suite) and reports what a reader would see: a screenshot,
 * every image's natural size, and the page's console errors and uncaught exceptions. It speaks
 * the DevTools protocol over a WebSocket (the JDK's {@code java.net.http} client): no driver,
 * no other browser library.
 *
 * <pre>{@code
 * Optional<Path> chromium = HeadlessChromium.find();
 * assumeTrue(chromium.isPresent(), "no chromium");
 * HeadlessChromium.Page p = HeadlessChromium.open(chromium.get(), reportHtml, Duration.ofSeconds(60));
 * }</pre>
 *
 * One call, one browser process (its own throwaway profile directory), ended before it returns.
 */
public final class HeadlessChromium {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");

    private HeadlessChromium() {
    }

    /**
     * What the page showed.
     *
     * @param screenshot    the viewport as PNG
     * @param images        per {@code <img>}: alt text, {@code complete}, {@code naturalWidth}, {@code naturalHeight}
     * @param consoleErrors console messages of level error, uncaught exceptions, and failed loads the browser logged
     * @param title         the document's title
     */
    public record Page(byte[] screenshot, List<Image> images, List<String> consoleErrors, String title) {
        /** The share of the screenshot's pixels that differ from its top-left pixel (0 for a blank page). */
        public double nonBackgroundShare() throws IOException {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(screenshot));
            int bg = img.getRGB(0, 0);
            long differ = 0;
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    if (img.getRGB(x, y) != bg) {
                        differ++;
                    }
                }
            }
            return differ / (double) ((long) img.getWidth() * img.getHeight());
        }
    }

    /** One {@code <img>} as the browser loaded it. */
    public record Image(String alt, boolean complete, int naturalWidth, int naturalHeight) {
    }

    /** The chromium binary: {@code chromium} or {@code chromium-browser} on the PATH, or empty. */
    public static Optional<Path> find() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    /** Loads {@code html} in a 1200 x 2000 viewport, waits for its load event, and looks. */
    public static Page open(Path chromium, Path html, Duration timeout) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("ringtmp-chromium-");
        // --no-sandbox: the suite runs as root, where Chromium refuses its sandbox.
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--remote-debugging-port=0", "--user-data-dir=" + profile, "--window-size=1200,2000",
                "about:blank").redirectErrorStream(true).start();
        try {
            String browserWs = awaitListening(p, timeout);
            int port = URI.create(browserWs).getPort();
            HttpClient http = HttpClient.newHttpClient();
            String pageWs = null;
            for (JsonNode t : JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                    .timeout(timeout).build(), HttpResponse.BodyHandlers.ofString()).body())) {
                if (t.path("type").asText().equals("page")) {
                    pageWs = t.path("webSocketDebuggerUrl").asText();
                    break;
                }
            }
            if (pageWs == null) {
                throw new IOException("chromium shows no page target on port " + port);
            }
            try (Session s = new Session(http, pageWs, timeout)) {
                s.call("Runtime.enable", JSON.createObjectNode());
                s.call("Log.enable", JSON.createObjectNode());
                s.call("Page.enable", JSON.createObjectNode());
                ObjectNode nav = JSON.createObjectNode().put("url", html.toAbsolutePath().toUri().toString());
                CountDownLatch loaded = s.onEvent("Page.loadEventFired");
                JsonNode r = s.call("Page.navigate", nav);
                if (r.has("errorText")) {
                    throw new IOException("chromium could not open " + html + ": " + r.path("errorText").asText());
                }
                if (!loaded.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IOException("no load event for " + html + " within " + timeout);
                }
                JsonNode images = s.call("Runtime.evaluate", JSON.createObjectNode().put("returnByValue", true).put("expression",
                        "JSON.stringify(Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight]))"));
                List<Image> list = new ArrayList<>();
                for (JsonNode i : JSON.readTree(images.path("result").path("value").asText("[]"))) {
                    list.add(new Image(i.get(0).asText(), i.get(1).asBoolean(), i.get(2).asInt(), i.get(3).asInt()));
                }
                String title = s.call("Runtime.evaluate", JSON.createObjectNode().put("returnByValue", true).put("expression", "document.title"))
                        .path("result").path("value").asText();
                byte[] png = Base64.getDecoder().decode(s.call("Page.captureScreenshot", JSON.createObjectNode().put("format", "png"))
                        .path("data").asText());
                return new Page(png, list, List.copyOf(s.errors), title);
            }
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            deleteRecursively(profile);
        }
    }

    private static String awaitListening(Process p, Duration timeout) throws IOException, InterruptedException {
        CompletableFuture<String> ws = new CompletableFuture<>();
        StringBuilder seen = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        ws.complete(m.group(1));
                    } else if (!ws.isDone()) {
                        synchronized (seen) {
                            seen.append(line).append('\n');
                        }
                    }
                }
            } catch (IOException e) {
                // The browser ended.
            }
            ws.completeExceptionally(new IOException("chromium exited without a DevTools endpoint"));
        }, "chromium-output");
        reader.setDaemon(true);
        reader.start();
        try {
            return ws.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            synchronized (seen) {
                throw new IOException("chromium did not open its DevTools endpoint within " + timeout + "; it printed:\n" + seen, e);
            }
        }
    }

    /** One DevTools WebSocket: calls by id, events by name, errors collected. */
    private static final class Session implements WebSocket.Listener, AutoCloseable {
        private final WebSocket ws;
        private final Duration timeout;
        private final AtomicInteger ids = new AtomicInteger();
        private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
        private final Map<String, CountDownLatch> waits = new ConcurrentHashMap<>();
        final List<String> errors = Collections.synchronizedList(new ArrayList<>());
        private final StringBuilder partial = new StringBuilder();

        Session(HttpClient http, String url, Duration timeout) throws IOException, InterruptedException {
            this.timeout = timeout;
            try {
                this.ws = http.newWebSocketBuilder().connectTimeout(timeout).buildAsync(URI.create(url), this)
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IOException("cannot open the DevTools WebSocket " + url, e);
            }
        }

        CountDownLatch onEvent(String method) {
            return waits.computeIfAbsent(method, m -> new CountDownLatch(1));
        }

        JsonNode call(String method, ObjectNode params) throws IOException, InterruptedException {
            int id = ids.incrementAndGet();
            CompletableFuture<JsonNode> f = new CompletableFuture<>();
            pending.put(id, f);
            ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
            msg.set("params", params);
            ws.sendText(JSON.writeValueAsString(msg), true);
            try {
                JsonNode reply = f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (reply.has("error")) {
                    throw new IOException(method + " failed: " + reply.path("error"));
                }
                return reply.path("result");
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IOException(method + ": no reply within " + timeout, e);
            }
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    handle(JSON.readTree(text));
                } catch (IOException e) {
                    errors.add("unreadable DevTools message: " + e.getMessage());
                }
            }
            webSocket.request(1);
            return null;
        }

        private void handle(JsonNode m) {
            if (m.has("id")) {
                CompletableFuture<JsonNode> f = pending.remove(m.path("id").asInt());
                if (f != null) {
                    f.complete(m);
                }
                return;
            }
            String method = m.path("method").asText();
            JsonNode p = m.path("params");
            switch (method) {
                case "Runtime.consoleAPICalled" -> {
                    if (p.path("type").asText().equals("error") || p.path("type").asText().equals("assert")) {
                        List<String> args = new ArrayList<>();
                        p.path("args").forEach(a -> args.add(a.has("value") ? a.path("value").asText() : a.path("description").asText()));
                        errors.add("console." + p.path("type").asText() + ": " + String.join(" ", args));
                    }
                }
                case "Runtime.exceptionThrown" -> errors.add("uncaught: " + p.path("exceptionDetails").path("exception").path("description")
                        .asText(p.path("exceptionDetails").path("text").asText()));
                case "Log.entryAdded" -> {
                    if (p.path("entry").path("level").asText().equals("error")) {
                        errors.add("log: " + p.path("entry").path("text").asText() + " " + p.path("entry").path("url").asText());
                    }
                }
                default -> {
                }
            }
            CountDownLatch l = waits.get(method);
            if (l != null) {
                l.countDown();
            }
        }

        @Override
        public void close() {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // Chromium may still be writing its profile as it exits; a temp directory left behind is harmless.
        }
    }
}
