//! Streaming clause splitting, so that the first clause of a reply can be spoken while the
//! language model is still generating the rest.
//!
//! Text arrives in pieces of any size (a token, a character, a whole reply). A clause ends
//! after `. ! ? ; :` followed by whitespace, after their CJK forms `。！？；：` (CJK text has
//! no spaces, so no whitespace is needed), at a line break, and at a comma followed by
//! whitespace once the clause has enough words (fewer for the first clause, so that speech
//! starts early; more later, so that speech does not sound choppy). Closing quotes,
//! brackets and repeated marks stay with their clause: `Really?!`, `He said "hi."`.
//!
//! A clause never ends:
//! - inside numbers ("79.99", "1,250") or e-mail addresses and URLs, since their dots and
//!   colons are not followed by whitespace;
//! - after abbreviations ("Mr.", "Mrs.", "Dr.", "e.g.", "i.e.", "etc.", "St.", initials
//!   like "J." or "U.S."), or after "No." when a number follows ("No. 5");
//! - before it has any letter, so that list markers such as "1." stay with their item.
//!
//! Every decision depends only on text already received: when it needs a character that
//! has not arrived yet, the splitter waits for it. Feeding a text in one piece or one
//! character at a time therefore gives the same clauses, and each character is examined a
//! bounded number of times, so the work is linear in the length of the reply.

/// Marks that end a clause when followed by whitespace.
const ASCII_ENDS: [char; 5] = ['.', '!', '?', ';', ':'];

/// CJK marks that end a clause at once.
const CJK_ENDS: [char; 5] = ['。', '！', '？', '；', '：'];

/// Characters that may follow an end mark and still belong to its clause.
const TRAILERS: [char; 17] = [
    '.', '!', '?', '"', '\'', ')', ']', '}', '”', '’', '»', '」', '』', '）', '。', '！', '？',
];

/// Most trailers an end mark may carry; a longer run of marks ends a clause only at its end.
const MAX_TRAILERS: usize = 8;

/// Longest word looked at when deciding whether a dot ends an abbreviation.
const MAX_ABBREVIATION_CHARS: usize = 12;

/// Abbreviations (lowercase, without their final dot) after which a dot never ends a clause:
/// titles, Latin and shop abbreviations, and months ("Nov. 28").
const ABBREVIATIONS: [&str; 30] = [
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "etc", "vs", "approx", "incl", "excl",
    "e.g", "i.e", "ave", "apt", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "ext",
];

/// Abbreviations that are words too ("No. 5" but "I said no."): a dot after them does not
/// end a clause only when a number follows.
const NUMBER_ABBREVIATIONS: [&str; 2] = ["no", "nr"];

/// Characters that may open a word before an abbreviation: `("e.g.`.
const OPENERS: [char; 6] = ['(', '"', '\'', '“', '‘', '['];

/// Splits streamed reply text into clauses to speak one by one.
#[derive(Debug, Clone)]
pub struct ClauseSplitter {
    /// Words the first clause needs before it may end at a comma.
    first_min_words: usize,
    /// Words later clauses need before they may end at a comma.
    min_words: usize,
    /// Text received and not yet returned, from `start` on.
    buffer: String,
    /// Byte offset in `buffer` where the pending clause starts.
    start: usize,
    /// How far the pending clause has been examined.
    scan: Scan,
    /// Clauses returned since the last [`ClauseSplitter::finish`].
    emitted: usize,
}

/// What is known about the pending clause up to `pos`.
#[derive(Debug, Clone, Copy, Default)]
struct Scan {
    /// Byte offset in the buffer of the next character to examine.
    pos: usize,
    /// Words seen so far in the clause.
    words: usize,
    /// Whether the last character seen was part of a word.
    in_word: bool,
    /// Whether the clause has a letter yet.
    has_letter: bool,
}

impl Scan {
    fn at(pos: usize) -> Scan {
        Scan {
            pos,
            ..Scan::default()
        }
    }

    /// Takes one examined character into account.
    fn advance(&mut self, c: char) {
        if c.is_whitespace() {
            self.in_word = false;
        } else if !self.in_word {
            self.in_word = true;
            self.words += 1;
        }
        self.has_letter |= c.is_alphabetic();
        self.pos += c.len_utf8();
    }
}

/// What a character means for the pending clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// The clause ends before this byte offset.
    End(usize),
    /// It does not end here.
    Continue,
    /// It cannot be told before more text arrives.
    NeedMore,
}

/// What follows an end mark: its trailers, then the next character.
enum Trail {
    /// The trailers end before `end`, and `next` follows them.
    Complete { end: usize, next: char },
    /// The text ends among the trailers.
    AtEnd,
    /// More than [`MAX_TRAILERS`] trailers follow.
    TooLong,
}

/// Whether a dot after a word ends an abbreviation rather than a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Abbreviation {
    No,
    Yes,
    /// Only when a number follows ("No. 5").
    IfNumberFollows,
}

impl Default for ClauseSplitter {
    /// The first clause may end at a comma after 3 words, later ones after 8.
    fn default() -> Self {
        ClauseSplitter::new(3, 8)
    }
}

impl ClauseSplitter {
    /// A splitter whose first clause may end at a comma after `first_min_words` words and
    /// later clauses after `min_words` words.
    pub fn new(first_min_words: usize, min_words: usize) -> Self {
        ClauseSplitter {
            first_min_words,
            min_words,
            buffer: String::new(),
            start: 0,
            scan: Scan::default(),
            emitted: 0,
        }
    }

    /// Feeds the next piece of streamed text (any size, even one character) and returns the
    /// clauses it completed, trimmed and never empty.
    pub fn push(&mut self, text: &str) -> Vec<String> {
        self.buffer.push_str(text);
        let mut clauses = Vec::new();
        while let Some(end) = self.next_clause_end() {
            clauses.extend(self.take_clause(end));
        }
        self.compact();
        clauses
    }

    /// Returns the rest of the text as the last clause, if it has anything but whitespace,
    /// and makes the splitter ready for the next reply.
    pub fn finish(&mut self) -> Option<String> {
        let rest = non_empty_trimmed(self.buffer.get(self.start..).unwrap_or_default());
        self.buffer.clear();
        self.start = 0;
        self.scan = Scan::default();
        self.emitted = 0;
        rest
    }

    /// Words the pending clause needs before it may end at a comma.
    fn comma_min_words(&self) -> usize {
        if self.emitted == 0 {
            self.first_min_words
        } else {
            self.min_words
        }
    }

    /// Examines the pending clause from where the last call stopped; returns where it ends,
    /// or `None` when it has not ended yet (as far as the text received tells).
    fn next_clause_end(&mut self) -> Option<usize> {
        let text = self.buffer.as_str();
        let min_words = self.comma_min_words();
        let mut scan = self.scan;
        let found = loop {
            let Some(c) = text.get(scan.pos..).and_then(|rest| rest.chars().next()) else {
                break None;
            };
            match decide(text, self.start, &scan, c, min_words) {
                Decision::End(end) => break Some(end),
                Decision::NeedMore => break None,
                Decision::Continue => scan.advance(c),
            }
        };
        self.scan = scan;
        found
    }

    /// Ends the pending clause before `end`; returns it unless it is only whitespace.
    fn take_clause(&mut self, end: usize) -> Option<String> {
        let clause = non_empty_trimmed(self.buffer.get(self.start..end).unwrap_or_default());
        self.start = end;
        self.scan = Scan::at(end);
        if clause.is_some() {
            self.emitted += 1;
        }
        clause
    }

    /// Drops returned text from the buffer, so that it holds only the pending clause.
    fn compact(&mut self) {
        if self.start == 0 || !self.buffer.is_char_boundary(self.start) {
            return;
        }
        self.buffer.drain(..self.start);
        self.scan.pos = self.scan.pos.saturating_sub(self.start);
        self.start = 0;
    }
}

/// Splits a whole text into clauses with the default word limits: [`ClauseSplitter::push`]
/// of all of it, then [`ClauseSplitter::finish`].
pub fn split_clauses(text: &str) -> Vec<String> {
    let mut splitter = ClauseSplitter::default();
    let mut clauses = splitter.push(text);
    clauses.extend(splitter.finish());
    clauses
}

fn non_empty_trimmed(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// Decides whether the pending clause (starting at `start`) ends with the character `c` at
/// `scan.pos`.
fn decide(text: &str, start: usize, scan: &Scan, c: char, min_words: usize) -> Decision {
    let pos = scan.pos;
    let after = pos + c.len_utf8();
    if c == '\n' {
        return if scan.has_letter {
            Decision::End(after)
        } else {
            Decision::Continue
        };
    }
    let cjk = CJK_ENDS.contains(&c);
    if !(cjk || ASCII_ENDS.contains(&c) || c == ',') {
        return Decision::Continue;
    }
    let (end, next) = match trail(text, after) {
        Trail::AtEnd => return Decision::NeedMore,
        Trail::TooLong => return Decision::Continue,
        Trail::Complete { end, next } => (end, next),
    };
    if !(cjk || next.is_whitespace()) || !scan.has_letter {
        return Decision::Continue;
    }
    match c {
        ',' if scan.words < min_words => Decision::Continue,
        '.' => decide_dot(text, start, pos, end, next),
        _ => Decision::End(end),
    }
}

/// A dot followed by whitespace ends the clause unless it ends an abbreviation.
fn decide_dot(text: &str, start: usize, pos: usize, end: usize, next: char) -> Decision {
    let token = word_before(text, start, pos);
    match token.map_or(Abbreviation::No, classify_abbreviation) {
        Abbreviation::No => Decision::End(end),
        Abbreviation::Yes => Decision::Continue,
        Abbreviation::IfNumberFollows => {
            let after_space = end + next.len_utf8();
            match text.get(after_space..).and_then(|rest| rest.chars().next()) {
                None => Decision::NeedMore,
                Some(d) if d.is_ascii_digit() || d == '#' => Decision::Continue,
                Some(_) => Decision::End(end),
            }
        }
    }
}

/// Looks past an end mark at `from`: the trailers that stay with it, and what follows.
fn trail(text: &str, from: usize) -> Trail {
    let Some(rest) = text.get(from..) else {
        return Trail::AtEnd;
    };
    for (count, (i, c)) in rest.char_indices().enumerate() {
        if !TRAILERS.contains(&c) {
            return Trail::Complete {
                end: from + i,
                next: c,
            };
        }
        if count >= MAX_TRAILERS {
            return Trail::TooLong;
        }
    }
    Trail::AtEnd
}

/// The word right before byte offset `end`, within the clause starting at `start`, without
/// opening quotes or brackets; `None` when longer than [`MAX_ABBREVIATION_CHARS`].
fn word_before(text: &str, start: usize, end: usize) -> Option<&str> {
    let before = text.get(start..end)?;
    let mut word_start = 0;
    for (count, (i, c)) in before.char_indices().rev().enumerate() {
        if c.is_whitespace() {
            word_start = i + c.len_utf8();
            break;
        }
        if count >= MAX_ABBREVIATION_CHARS {
            return None;
        }
    }
    before
        .get(word_start..)
        .map(|w| w.trim_start_matches(OPENERS))
}

/// Whether a word followed by a dot is an abbreviation: a known one, or initials such as
/// "J" or "U.S" (single letters joined by dots).
fn classify_abbreviation(word: &str) -> Abbreviation {
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return Abbreviation::Yes;
    }
    if NUMBER_ABBREVIATIONS.contains(&lower.as_str()) {
        return Abbreviation::IfNumberFollows;
    }
    let initials = !word.is_empty()
        && word.split('.').all(|part| {
            let mut chars = part.chars();
            matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic())
        });
    if initials {
        Abbreviation::Yes
    } else {
        Abbreviation::No
    }
}

/// `text` cut at spaces into pieces of at most `max_chars` characters; a run longer than that
/// with no space in it is cut anywhere. Blank text gives no pieces. (The speaker keeps clauses
/// small for Piper this way; Kokoro keeps a phoneme string within what one inference takes.)
pub fn cut_at_spaces(text: &str, max_chars: usize) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    if text.chars().count() <= max_chars {
        return vec![text.to_string()];
    }
    let mut pieces = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if !current.is_empty() && current.chars().count() + 1 + len > max_chars {
            pieces.push(std::mem::take(&mut current));
        }
        if len > max_chars {
            let chars: Vec<char> = word.chars().collect();
            pieces.extend(chars.chunks(max_chars).map(|part| part.iter().collect()));
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<String> {
        split_clauses(text)
    }

    /// Feeds `text` in pieces of the given sizes (in characters, cycling) and collects all
    /// clauses, including the rest from `finish`.
    fn split_in_pieces(splitter: &mut ClauseSplitter, text: &str, sizes: &[usize]) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut clauses = Vec::new();
        let mut i = 0;
        let mut piece = 0;
        while i < chars.len() {
            let size = sizes
                .get(piece % sizes.len().max(1))
                .copied()
                .unwrap_or(1)
                .max(1);
            let end = (i + size).min(chars.len());
            let chunk: String = chars.get(i..end).unwrap_or_default().iter().collect();
            clauses.extend(splitter.push(&chunk));
            i = end;
            piece += 1;
        }
        clauses.extend(splitter.finish());
        clauses
    }

    const SAMPLES: [&str; 12] = [
        "Hello there. How are you?",
        "Sure, I can check that for you, it only takes a moment, please hold on. Done!",
        "Your order No. 100042 costs $79.99, and the total is $1,250.00. Thanks!",
        "Mr. Smith, e.g. the owner, met Dr. Jones at 5 St. James Street. They talked.",
        "Mail alice@example.com or see https://example.com/returns?id=5. Thanks!",
        "He said \"hi.\" Then he left... Really?! Yes; truly: it happened.",
        "你好。我很好！谢谢？好的；再见：",
        "Options:\n- red\n- blue\n\nPick one.",
        "I said no. Then we left. It's No. 5 in the list.",
        "1. Apples are fresh. 2. Pears too.",
        "   ",
        "Wow!!!!!!!!!!!!!!!!!!!! Great. The U.S. office is open, i.e. today, etc. and so on.",
    ];

    #[test]
    fn splits_sentences() {
        assert_eq!(
            split("Hello there. How are you?"),
            ["Hello there.", "How are you?"]
        );
        assert_eq!(split("Great! Anything else?"), ["Great!", "Anything else?"]);
        assert_eq!(split("One; two: three."), ["One;", "two:", "three."]);
        assert_eq!(split("No end mark"), ["No end mark"]);
    }

    #[test]
    fn keeps_numbers_whole() {
        assert_eq!(
            split("It costs $79.99 today. We have 1,250 units."),
            ["It costs $79.99 today.", "We have 1,250 units."]
        );
        assert_eq!(
            split("Open at 3:30 pm. See you."),
            ["Open at 3:30 pm.", "See you."]
        );
        assert_eq!(split("That is $5. Thanks."), ["That is $5.", "Thanks."]);
    }

    #[test]
    fn keeps_abbreviations_whole() {
        assert_eq!(
            split("Mr. Smith and Mrs. Lee met Dr. Jones on St. James. They talked."),
            [
                "Mr. Smith and Mrs. Lee met Dr. Jones on St. James.",
                "They talked."
            ]
        );
        assert_eq!(
            split("Use a box, e.g. this one, i.e. the blue. Shoes, bags etc. are fine."),
            [
                "Use a box,",
                "e.g. this one, i.e. the blue.",
                "Shoes, bags etc. are fine."
            ]
        );
        assert_eq!(split("It is No. 5 now."), ["It is No. 5 now."]);
        assert_eq!(split("It is No. #5 now."), ["It is No. #5 now."]);
        assert_eq!(
            split("I said no. Then we left."),
            ["I said no.", "Then we left."]
        );
        assert_eq!(
            split("Ask J. Smith (Mr. Smith) now."),
            ["Ask J. Smith (Mr. Smith) now."]
        );
        assert_eq!(
            split("The U.S. office. Done."),
            ["The U.S. office.", "Done."]
        );
        assert_eq!(
            split("It ships Nov. 28, by noon. Thanks."),
            ["It ships Nov. 28,", "by noon.", "Thanks."]
        );
    }

    #[test]
    fn keeps_addresses_whole() {
        assert_eq!(
            split("Mail alice@example.com or see https://example.com/a?b=c. Thanks!"),
            [
                "Mail alice@example.com or see https://example.com/a?b=c.",
                "Thanks!"
            ]
        );
        assert_eq!(
            split("Write to alice@example.com. We answer fast."),
            ["Write to alice@example.com.", "We answer fast."]
        );
    }

    #[test]
    fn splits_at_commas_by_word_count() {
        // The first clause may end at a comma after 3 words, later ones after 8.
        assert_eq!(
            split(
                "Sure, I can check that, just give me a moment, and then, I will tell you, okay."
            ),
            [
                "Sure, I can check that,",
                "just give me a moment, and then, I will tell you,",
                "okay."
            ]
        );
        let mut splitter = ClauseSplitter::new(1, 2);
        let mut clauses = splitter.push("Yes, of course, one two, three four five, six");
        clauses.extend(splitter.finish());
        assert_eq!(
            clauses,
            ["Yes,", "of course,", "one two,", "three four five,", "six"]
        );
    }

    #[test]
    fn keeps_trailers_with_their_clause() {
        assert_eq!(
            split("He said \"hi.\" Then left... Really?! (Yes.) Done."),
            [
                "He said \"hi.\"",
                "Then left...",
                "Really?!",
                "(Yes.)",
                "Done."
            ]
        );
    }

    #[test]
    fn splits_cjk_without_spaces() {
        assert_eq!(
            split("你好。我很好！谢谢？好的；再见：走"),
            ["你好。", "我很好！", "谢谢？", "好的；", "再见：", "走"]
        );
        assert_eq!(split("「好。」对。"), ["「好。」", "对。"]);
    }

    #[test]
    fn splits_at_line_breaks() {
        assert_eq!(
            split("Options:\n- red\n- blue\n\nPick one."),
            ["Options:", "- red", "- blue", "Pick one."]
        );
    }

    #[test]
    fn needs_a_letter_before_ending() {
        assert_eq!(split("1. Apples. 2. Pears."), ["1. Apples.", "2. Pears."]);
        assert_eq!(split("... Hello."), ["... Hello."]);
    }

    #[test]
    fn never_returns_empty_clauses() {
        assert!(split("").is_empty());
        assert!(split("   \n\n  \t").is_empty());
        let mut splitter = ClauseSplitter::default();
        assert!(splitter.push("  ").is_empty());
        assert_eq!(splitter.finish(), None);
        for sample in SAMPLES {
            for clause in split(sample) {
                assert!(!clause.trim().is_empty(), "{sample:?}");
                assert_eq!(clause, clause.trim());
            }
        }
    }

    #[test]
    fn waits_for_lookahead_while_streaming() {
        let mut splitter = ClauseSplitter::default();
        assert!(splitter.push("Hello there.").is_empty());
        assert_eq!(splitter.push(" How"), ["Hello there."]);
        assert!(splitter.push(" are you?").is_empty());
        assert_eq!(splitter.finish().as_deref(), Some("How are you?"));
    }

    #[test]
    fn finish_resets_for_the_next_reply() {
        let mut splitter = ClauseSplitter::default();
        assert_eq!(
            splitter.push("One. Two, three four five, six. "),
            ["One.", "Two, three four five, six."]
        );
        assert_eq!(splitter.finish(), None);
        // The next reply's first clause again uses the first-clause limit.
        assert_eq!(
            splitter.push("Yes sir ok, fine. "),
            ["Yes sir ok,", "fine."]
        );
        assert_eq!(splitter.finish(), None);
    }

    #[test]
    fn chunking_does_not_change_clauses() {
        let chunkings: [&[usize]; 6] = [&[1], &[2], &[3, 1, 4], &[7], &[1, 13, 2], &[1000]];
        for sample in SAMPLES {
            let whole = split(sample);
            for sizes in chunkings {
                let mut splitter = ClauseSplitter::default();
                assert_eq!(
                    split_in_pieces(&mut splitter, sample, sizes),
                    whole,
                    "{sample:?} in pieces of {sizes:?}"
                );
            }
        }
    }

    #[test]
    fn chunking_does_not_change_clauses_on_random_text() {
        // A small deterministic generator, so that the test needs no crate and never flakes.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: Vec<char> = "ab No.e.g Mr St,;:!?\"')…1.5 9,000 .\n。！x@y.com "
            .chars()
            .collect();
        for _ in 0..200 {
            let len = usize::try_from(next() % 80).unwrap_or(0);
            let text: String = (0..len)
                .filter_map(|_| {
                    let i = usize::try_from(next() % alphabet.len() as u64).ok()?;
                    alphabet.get(i).copied()
                })
                .collect();
            let whole = split(&text);
            let sizes: Vec<usize> = (0..5)
                .map(|_| usize::try_from(next() % 6).unwrap_or(0) + 1)
                .collect();
            let mut splitter = ClauseSplitter::default();
            assert_eq!(
                split_in_pieces(&mut splitter, &text, &sizes),
                whole,
                "{text:?}"
            );
            let mut splitter = ClauseSplitter::default();
            assert_eq!(
                split_in_pieces(&mut splitter, &text, &[1]),
                whole,
                "{text:?}"
            );
        }
    }

    #[test]
    fn long_streams_are_linear() {
        let sentence = "This is a clause, with a comma and words enough to split it, e.g. here. ";
        let text = sentence.repeat(1_000_000 / sentence.len() + 1);
        let start = std::time::Instant::now();
        let mut splitter = ClauseSplitter::default();
        let mut count = 0;
        for c in text.chars() {
            let mut buf = [0u8; 4];
            count += splitter.push(c.encode_utf8(&mut buf)).len();
        }
        count += usize::from(splitter.finish().is_some());
        assert!(count > 10_000);
        assert_eq!(split_clauses(&text).len(), count);

        // One enormous clause without any end, streamed a character at a time.
        let mut splitter = ClauseSplitter::default();
        for _ in 0..200_000 {
            assert!(splitter.push("!").is_empty());
        }
        assert!(splitter.push("a").is_empty());
        assert_eq!(splitter.finish().map(|c| c.len()), Some(200_001));
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }
}
