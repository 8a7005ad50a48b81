package io.vmesh.tools;

import java.util.ArrayList;
import java.util.List;

/** Options of the {@code switch} and {@code demo} commands: {@code --name value} or {@code --name=value}. */
public final class CommandLine {

    private CommandLine() {
    }

    /**
     * The arguments as name, value, name, value, ...; flags listed in {@code flags} get the value
     * "true". A name neither in {@code options} nor in {@code flags} is an unknown option.
     */
    static List<String> split(String[] args, List<String> options, String... flags) {
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'");
            }
            int equals = arg.indexOf('=');
            String name = equals > 0 ? arg.substring(0, equals) : arg;
            if (!options.contains(name) && !List.of(flags).contains(name)) {
                throw new IllegalArgumentException("unknown option " + name);
            }
            if (equals > 0) {
                pairs.add(arg.substring(0, equals));
                pairs.add(arg.substring(equals + 1));
            } else if (List.of(flags).contains(arg)) {
                pairs.add(arg);
                pairs.add("true");
            } else if (i + 1 < args.length) {
                pairs.add(arg);
                pairs.add(args[++i]);
            } else {
                throw new IllegalArgumentException("option " + arg + " needs a value");
            }
        }
        return pairs;
    }

    static int integer(String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " takes a whole number, got '" + value + "'");
        }
    }

    static double number(String name, String value) {
        try {
            double number = Double.parseDouble(value.trim());
            if (Double.isNaN(number) || Double.isInfinite(number)) {
                throw new NumberFormatException();
            }
            return number;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " takes a number, got '" + value + "'");
        }
    }
}
