package dev.hearth.llama.constrain;

import dev.hearth.llama.constrain.Grammar.Chars;
import dev.hearth.llama.constrain.Grammar.Element;
import dev.hearth.llama.constrain.Grammar.Ref;
import dev.hearth.llama.constrain.Grammar.Rule;
import dev.hearth.llama.constrain.Grammar.StringBody;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a match of a {@link Grammar} stands after some bytes: the set of parse stacks still alive
 * (each a persistent list of frames whose top is a terminal element) and, inside a multi-byte
 * UTF-8 character, the bytes seen so far. Immutable but for a cache of its transitions: states
 * are interned per grammar (up to {@link #INTERN_LIMIT}), so that a trie walk through a repetition
 * finds the same few states again and steps by table lookups. {@link #step} gives the next state
 * or null.
 */
final class MatchState {
    /** A stack frame: element {@code pos} of {@code seq} is next; the string-body count and escape flag where it is one. */
    static final class Frame {
        final Element[] seq;
        final int pos;
        final int count;
        final boolean escape;
        final Frame next;
        final int hash;

        Frame(Element[] seq, int pos, int count, boolean escape, Frame next) {
            this.seq = seq;
            this.pos = pos;
            this.count = count;
            this.escape = escape;
            this.next = next;
            this.hash = ((System.identityHashCode(seq) * 31 + pos) * 31 + count) * 31 + (escape ? 1 : 0) + 17 * Objects.hashCode(next);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) return true;
            if (!(o instanceof Frame f) || f.hash != hash) return false;
            return f.seq == seq && f.pos == pos && f.count == count && f.escape == escape && Objects.equals(f.next, next);
        }
    }

    /** The frame of a finished match. */
    static final Frame END = new Frame(new Element[0], 0, 0, false, null);
    private static final int MAX_EXPANSION = 100_000;
    static final int INTERN_LIMIT = 10_000;
    private static final MatchState DEAD = new MatchState(new Frame[0], 0, 0, null);

    final Frame[] frames;
    /** Bits of the code point read so far and how many continuation bytes it still needs (0: none). */
    final int partial;
    final int need;
    private final int hash;
    /** The states of one grammar, shared by all of them. */
    private final Map<MatchState, MatchState> interned;
    /** The state after each byte (DEAD where refused), filled as they are asked for. */
    private volatile MatchState[] transitions;
    /** Only interned states keep transitions, and only to interned states, so the cached graph stays bounded. */
    private volatile boolean isInterned;

    private MatchState(Frame[] frames, int partial, int need, Map<MatchState, MatchState> interned) {
        this.frames = frames;
        this.partial = partial;
        this.need = need;
        this.interned = interned;
        this.hash = Arrays.hashCode(frames) * 31 + partial * 7 + need;
    }

    static MatchState start(Rule root) {
        Set<Frame> out = new LinkedHashSet<>();
        expand(new Element[]{new Ref(root)}, 0, 0, null, out, new int[1]);
        return of(out, 0, 0, new ConcurrentHashMap<>());
    }

    private MatchState of(Set<Frame> frames, int partial, int need) {
        return of(frames, partial, need, interned);
    }

    private static MatchState of(Set<Frame> frames, int partial, int need, Map<MatchState, MatchState> interned) {
        if (frames.isEmpty()) return null;
        Frame[] a = frames.toArray(new Frame[0]);
        Arrays.sort(a, (x, y) -> Integer.compare(x.hash, y.hash)); // a canonical order, so equal sets are equal arrays
        return intern(new MatchState(a, partial, need, interned));
    }

    private static MatchState intern(MatchState s) {
        MatchState known = s.interned.get(s);
        if (known != null) return known;
        if (s.interned.size() >= INTERN_LIMIT) return s;
        known = s.interned.putIfAbsent(s, s);
        if (known != null) return known;
        s.isInterned = true;
        return s;
    }

    boolean complete() {
        if (need != 0) return false;
        for (Frame f : frames) if (f == END) return true;
        return false;
    }

    /** Complete, and no byte can follow. */
    boolean finished() {
        return need == 0 && frames.length == 1 && frames[0] == END;
    }

    /** Pushes the frames that start matching {@code seq} at {@code pos}, its string body at {@code count} characters. */
    private static void expand(Element[] seq, int pos, int count, Frame next, Set<Frame> out, int[] budget) {
        if (++budget[0] > MAX_EXPANSION) throw new IllegalStateException("the grammar expands without end (a rule that refers to itself before any character)");
        if (pos == seq.length) {
            if (next == null) out.add(END);
            else expand(next.seq, next.pos, 0, next.next, out, budget);
            return;
        }
        switch (seq[pos]) {
            case Chars c -> out.add(new Frame(seq, pos, 0, false, next));
            case StringBody s -> {
                if (count < s.max()) out.add(new Frame(seq, pos, count, false, next));
                if (count >= s.min()) expand(seq, pos + 1, 0, next, out, budget);
            }
            case Ref r -> {
                Frame cont = pos + 1 == seq.length ? next : new Frame(seq, pos + 1, 0, false, next);
                for (Element[] alt : r.rule().alternatives) expand(alt, 0, 0, cont, out, budget);
            }
        }
    }

    private volatile int distance = -1;

    /** The fewest bytes that finish the match from here, by {@code lengths} (cached). */
    int distance(MinLength lengths) {
        int d = distance;
        if (d < 0) distance = d = lengths.distance(this);
        return d;
    }

    /** The state after byte {@code b}, or null if no stack can take it. */
    MatchState step(int b) {
        b &= 0xFF;
        if (!isInterned) return compute(b);
        // inside a character only continuation bytes can follow: a table of 64
        int at = need == 0 ? b : b - 0x80;
        if (at < 0 || at >= 64 && need != 0) return null;
        MatchState[] tr = transitions;
        if (tr == null) transitions = tr = new MatchState[need == 0 ? 256 : 64];
        MatchState next = tr[at];
        if (next == null) {
            next = compute(b);
            if (next == null) tr[at] = DEAD;
            else if (next.isInterned) tr[at] = next;
        }
        return next == DEAD ? null : next;
    }

    /** The smallest code point of a UTF-8 sequence of 1 to 4 bytes (anything less would be overlong). */
    private static final int[] SMALLEST = {0, 0, 0x80, 0x800, 0x10000};

    private MatchState compute(int b) {
        if (need == 0) {
            if (b < 0x80) return stepCodePoint(b);
            int n, bits;
            if (b >= 0xC2 && b <= 0xDF) { n = 1; bits = b & 0x1F; }
            else if (b >= 0xE0 && b <= 0xEF) { n = 2; bits = b & 0x0F; }
            else if (b >= 0xF0 && b <= 0xF4) { n = 3; bits = b & 0x07; }
            else return null;
            return partialState(bits, n, n + 1);
        }
        if ((b & 0xC0) != 0x80) return null;
        if ((partial & UNIFORM) != 0) {
            if (need > 1) return intern(new MatchState(frames, partial, need - 1, interned));
            return advance(-1, partial & 0xFFFFFF);
        }
        // partial: the bits read so far, and the sequence's length in bits 24 to 29
        int length = partial >>> 24;
        int bits = (partial & 0xFFFFFF) << 6 | (b & 0x3F);
        if (need == 1) {
            if (bits < SMALLEST[length] || bits > 0x10FFFF || (bits >= 0xD800 && bits <= 0xDFFF)) return null;
            return stepCodePoint(bits);
        }
        return partialState(bits, need - 1, length);
    }

    /**
     * Whether some stack can take a code point of a {@code length}-byte sequence that starts with
     * {@code bits} and needs {@code n} more bytes (not overlong, not a surrogate, at most U+10FFFF).
     */
    private boolean feasible(int bits, int n, int length) {
        int lo = bits << (6 * n), hi = lo | ((1 << (6 * n)) - 1);
        lo = Math.max(lo, SMALLEST[length]);
        if (hi > 0x10FFFF) hi = 0x10FFFF;
        if (lo > hi || (lo >= 0xD800 && hi <= 0xDFFF)) return false;
        for (Frame f : frames) {
            if (f == END) continue;
            switch (f.seq[f.pos]) {
                case Chars c -> {
                    if (c.intersects(lo, hi)) return true;
                }
                case StringBody s -> {
                    if (!f.escape && (lo < 0xD800 || hi > 0xDFFF)) return true; // every other non-ASCII code point is plain
                }
                case Ref r -> throw new IllegalStateException();
            }
        }
        return false;
    }

    MatchState stepCodePoint(int cp) {
        return advance(cp, -1);
    }

    /**
     * The state after a code point: {@code cp}, or where {@code accepting} is not negative, a
     * non-ASCII code point that exactly the frames whose bits are set in it take.
     */
    private MatchState advance(int cp, int accepting) {
        Set<Frame> out = new LinkedHashSet<>();
        int[] budget = new int[1];
        for (int i = 0; i < frames.length; i++) {
            Frame f = frames[i];
            if (f == END) continue;
            boolean takes = accepting >= 0 && (accepting & (1 << i)) != 0;
            switch (f.seq[f.pos]) {
                case Chars c -> {
                    if (accepting >= 0 ? takes : c.contains(cp)) expand(f.seq, f.pos + 1, 0, f.next, out, budget);
                }
                case StringBody s -> {
                    if (accepting >= 0) {
                        if (takes) expand(f.seq, f.pos, f.count + 1, f.next, out, budget);
                    } else if (f.escape) {
                        if (StringBody.escape(cp)) expand(f.seq, f.pos, f.count, f.next, out, budget);
                    } else if (cp == '\\') {
                        out.add(new Frame(f.seq, f.pos, f.count + 1, true, f.next));
                    } else if (StringBody.plain(cp)) {
                        expand(f.seq, f.pos, f.count + 1, f.next, out, budget);
                    }
                }
                case Ref r -> throw new IllegalStateException();
            }
        }
        return of(out, 0, 0);
    }

    /** Marks a partial character whose completions all lead to the same state: which frames take it is in the low bits. */
    private static final int UNIFORM = 1 << 30;

    /**
     * A state inside a character that starts with {@code bits} and needs {@code n} more bytes. Where
     * every completion is valid UTF-8 and each frame takes all of them or none, the state keeps only
     * which frames take it (so characters of a class share states); else the bits.
     */
    private MatchState partialState(int bits, int n, int length) {
        int lo = bits << (6 * n), hi = lo | ((1 << (6 * n)) - 1);
        if (frames.length <= 24 && lo >= SMALLEST[length] && hi <= 0x10FFFF && (hi < 0xD800 || lo > 0xDFFF)) {
            int accepting = 0;
            boolean uniform = true;
            for (int i = 0; i < frames.length && uniform; i++) {
                Frame f = frames[i];
                if (f == END) continue;
                switch (f.seq[f.pos]) {
                    case Chars c -> {
                        if (c.containsAll(lo, hi)) accepting |= 1 << i;
                        else if (c.intersects(lo, hi)) uniform = false;
                    }
                    case StringBody s -> {
                        if (!f.escape) accepting |= 1 << i;
                    }
                    case Ref r -> throw new IllegalStateException();
                }
            }
            if (uniform) return accepting == 0 ? null : intern(new MatchState(frames, UNIFORM | length << 24 | accepting, n, interned));
        }
        return feasible(bits, n, length) ? intern(new MatchState(frames, bits | length << 24, n, interned)) : null;
    }

    /** Steps through all of {@code bytes}; null if some byte is refused. */
    MatchState steps(byte[] bytes) {
        MatchState s = this;
        for (int i = 0; i < bytes.length && s != null; i++) s = s.step(bytes[i]);
        return s;
    }

    /**
     * If the only stack that can take a plain string character is inside a string body (not in an
     * escape), the characters it may still take; else -1. The other stacks may take only '"', '\' or
     * control characters.
     */
    int plainRoom() {
        if (need != 0) return -1;
        int room = -1;
        for (Frame f : frames) {
            if (f == END) continue;
            switch (f.seq[f.pos]) {
                case Chars c -> {
                    if (c.intersects(0x20, 0x21) || c.intersects(0x23, 0x5B) || c.intersects(0x5D, 0x10FFFF)) return -1;
                }
                case StringBody s -> {
                    if (f.escape || room >= 0) return -1;
                    room = s.max() - f.count;
                }
                case Ref r -> throw new IllegalStateException();
            }
        }
        return room;
    }

    /** Code points so many that a state taking them is worth the class path of a mask. */
    private static final int WIDE = 1000;
    private static final int[] PLAIN = {0x20, 0x21, 0x23, 0x5B, 0x5D, 0xD7FF, 0xE000, 0x10FFFF};
    private static final int[] ESCAPES = {'"', '"', '/', '/', '\\', '\\', 'b', 'b', 'f', 'f', 'n', 'n', 'r', 'r', 't', 't'};

    /**
     * Where one frame takes a wide set of code points, that set less what any other frame takes:
     * every code point of it leads to the same next state. Null otherwise (or inside a character).
     */
    int[] wideClass() {
        if (need != 0) return null;
        int[] wide = null, others = new int[0];
        for (Frame f : frames) {
            if (f == END) continue;
            int[] set = switch (f.seq[f.pos]) {
                case Chars c -> c.ranges();
                case StringBody s -> f.escape ? ESCAPES : PLAIN;
                case Ref r -> throw new IllegalStateException();
            };
            if (size(set) >= WIDE) {
                if (wide != null) return null;
                wide = set;
            } else {
                others = RegexCompiler.union(others, set);
            }
        }
        if (wide == null) return null;
        int[] c = RegexCompiler.subtract(wide, others);
        return size(c) >= WIDE ? c : null;
    }

    private static int size(int[] ranges) {
        long n = 0;
        for (int i = 0; i < ranges.length; i += 2) n += ranges[i + 1] - ranges[i] + 1;
        return (int) Math.min(n, Integer.MAX_VALUE);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MatchState m && m.hash == hash && m.partial == partial && m.need == need && Arrays.equals(m.frames, frames);
    }
}
