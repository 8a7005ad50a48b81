package io.vmesh.security;

/** Makes untrusted input safe to quote in an error message or a log line. */
public final class Printable {

    private Printable() {
    }

    public static String of(String value) {
        if (value == null) {
            return "";
        }
        String cut = value.length() > 64 ? value.substring(0, 64) + "..." : value;
        StringBuilder sb = new StringBuilder(cut.length());
        cut.codePoints().forEach(c -> sb.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : "?"));
        return sb.toString();
    }
}
