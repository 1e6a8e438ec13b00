package dev.hearth.server.chat;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/** Python's strftime for the common codes (%Y %m %d %H %M %S %b %B %a %A %y %j %p %I %e %%), C locale. */
final class Strftime {
    private Strftime() {
    }

    static String format(String f, LocalDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < f.length(); i++) {
            char c = f.charAt(i);
            if (c != '%' || i + 1 == f.length()) {
                sb.append(c);
                continue;
            }
            char k = f.charAt(++i);
            switch (k) {
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(two(t.getYear() % 100));
                case 'm' -> sb.append(two(t.getMonthValue()));
                case 'd' -> sb.append(two(t.getDayOfMonth()));
                case 'e' -> sb.append(t.getDayOfMonth() < 10 ? " " : "").append(t.getDayOfMonth());
                case 'H' -> sb.append(two(t.getHour()));
                case 'I' -> sb.append(two(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'M' -> sb.append(two(t.getMinute()));
                case 'S' -> sb.append(two(t.getSecond()));
                case 'j' -> sb.append(String.format("%03d", t.getDayOfYear()));
                case 'b' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.US));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.US));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.US));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US));
                case '%' -> sb.append('%');
                default -> sb.append('%').append(k);
            }
        }
        return sb.toString();
    }

    private static String two(int v) {
        return v < 10 ? "0" + v : Integer.toString(v);
    }
}
