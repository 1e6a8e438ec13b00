package dev.hearth.cli;

import dev.hearth.runtime.HearthException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading the user's files with messages that say which file and what went wrong. */
final class Files2 {
    private Files2() {
    }

    static String readText(String file, String what) {
        Path p = Path.of(file);
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new HearthException(file + ": no such " + what);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new HearthException(file + ": the " + what + " is not UTF-8 text");
        } catch (IOException e) {
            throw new HearthException(file + ": cannot read the " + what + ": " + e.getMessage());
        }
    }
}
