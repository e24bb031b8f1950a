#!/usr/bin/env python3
"""Tokenizer parity data from HF `tokenizers` (runs in the reference chroot: tools/ref_env.sh run ...).
Seeded and deterministic; it never imports lastrank code.

usage: make_tokenizer_corpus.py unicode  # tests/data/tokenizer/hf_unicode.txt (per-code-point classes,
                                         #   contraction case folds, NFC of every code point / composite)
       make_tokenizer_corpus.py tables   # src/tokenizer/unicode_class_table.inc from Python's unicodedata
       make_tokenizer_corpus.py corpus   # tests/data/tokenizer/parity_corpus.jsonl (+ decode cases) and
                                         #   added_token_cases.json (lstrip/rstrip/single_word/overlaps)
       make_tokenizer_corpus.py all
Options: --tokenizer PATH (default .deps/tokenizer/tokenizer.json), --seed N (default 20251125).
"""
import argparse
import json
import random
import sys
import unicodedata

from tokenizers import Tokenizer, normalizers

MAX_CP = 0x110000
# Class letters, as src/tokenizer/unicode_classes.h: L letter, N number, S whitespace (\s but not
# CR/LF), R CR or LF, O anything else.
CR_LF = {0x0A, 0x0D}


def is_surrogate(cp):
    return 0xD800 <= cp < 0xE000


def to_ranges(classes):
    """[(start, end_inclusive, cls)] over all code points, surrogates take the class O."""
    out = []
    start = 0
    for cp in range(1, MAX_CP + 1):
        if cp == MAX_CP or classes[cp] != classes[start]:
            out.append((start, cp - 1, classes[start]))
            start = cp
    return out


def hf_classes(pt):
    """Class of each code point as HF's Split regex sees it, from three probes per code point."""
    classes = ["O"] * MAX_CP
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        c = chr(cp)
        if cp in CR_LF:
            classes[cp] = "R"
            continue
        if len(pt.pre_tokenize_str("a" + c)) == 1:  # [^\r\n\p{L}\p{N}]?\p{L}+ took both
            classes[cp] = "L"
        elif len(pt.pre_tokenize_str(c + c)) == 2:  # \p{N} matches one char at a time
            classes[cp] = "N"
        elif cp != 0x20 and len(pt.pre_tokenize_str(c + "!")) == 2:  # \s+ stops before '!'
            classes[cp] = "S"
        elif cp == 0x20:
            classes[cp] = "S"
        else:
            classes[cp] = "O"  # ` ?[^\s\p{L}\p{N}]+` took c and '!'
    return classes


def py_classes():
    """The same classes from Python's unicodedata (general category L*, N*) + White_Space."""
    white = set(range(0x09, 0x0E)) | {0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}
    white |= set(range(0x2000, 0x200B))
    classes = ["O"] * MAX_CP
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        if cp in CR_LF:
            classes[cp] = "R"
        elif cp in white:
            classes[cp] = "S"
        else:
            cat = unicodedata.category(chr(cp))
            if cat[0] == "L":
                classes[cp] = "L"
            elif cat[0] == "N":
                classes[cp] = "N"
    return classes


def contraction_probes(pt, classes):
    """Probes for `(?i:'s|'t|'re|'ve|'m|'ll|'d)`: every letter in every slot of every contraction.
    Returns the probes where HF matched the contraction (first piece == the contraction)."""
    hits = []
    forms = ["s", "t", "re", "ve", "m", "ll", "d"]
    letters = [cp for cp in range(MAX_CP) if classes[cp] == "L"]
    for form in forms:
        for slot in range(len(form)):
            for cp in letters:
                word = "'" + form[:slot] + chr(cp) + form[slot + 1:]
                probe = word + "z"
                first = pt.pre_tokenize_str(probe)[0][1]
                if first == (0, len(word)):
                    hits.append(probe)
    return hits


def hf_inert_code_points():
    """Code points that Unicode 16 gives a combining class, a canonical decomposition or a place
    in a canonical composition, but that HF's NFC treats as plain starters (its normalization data,
    from the unicode-normalization-alignments crate, predates them)."""
    nfc, nfd = normalizers.NFC(), normalizers.NFD()
    seconds = {}
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        d = unicodedata.decomposition(chr(cp))
        if d and not d.startswith("<") and len(d.split()) == 2:
            a, b = (int(x, 16) for x in d.split())
            seconds.setdefault(b, []).append((a, cp))
    inert = []
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        c = chr(cp)
        ccc = unicodedata.combining(c)
        d = unicodedata.decomposition(c)
        canonical = bool(d) and not d.startswith("<")
        known = None
        if canonical:
            known = nfd.normalize_str(c) != c
        elif ccc > 1:
            known = nfc.normalize_str("\u4e00" + c + "\u0334") == "\u4e00\u0334" + c  # reordered
        elif ccc == 1:
            known = nfc.normalize_str("\u4e00\u0301" + c) == "\u4e00" + c + "\u0301"
        if known is None and cp in seconds:
            pairs = [(a, comp) for a, comp in seconds[cp] if unicodedata.normalize("NFC", chr(a) + c) == chr(comp)]
            if pairs:  # (composition-excluded pairs teach nothing)
                known = any(nfc.normalize_str(chr(a) + c) == chr(comp) for a, comp in pairs)
        if known is False:
            inert.append(cp)
    return inert


def nfc_cases(norm):
    """(input, HF NFC output) for every code point that NFC changes, every canonical composite's NFD
    form, Hangul LV/LVT jamo sequences and a few reorderings; only where output != input or the
    input is a decomposed form."""
    cases = []
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        c = chr(cp)
        out = norm.normalize_str(c)
        if out != c:
            cases.append((c, out))
        d = unicodedata.decomposition(c)
        if d and not d.startswith("<"):
            nfd = unicodedata.normalize("NFD", c)
            if nfd != c:
                cases.append((nfd, norm.normalize_str(nfd)))
                # The decomposed form with a blocking/non-blocking mark after the base.
                for mark in ("\u0323",):
                    s = nfd[0] + mark + nfd[1:]
                    cases.append((s, norm.normalize_str(s)))
    rng = random.Random(7)
    for _ in range(3000):  # Hangul: L V, L V T, LV T from conjoining jamo
        l = chr(0x1100 + rng.randrange(19))
        v = chr(0x1161 + rng.randrange(21))
        t = chr(0x11A8 + rng.randrange(27))
        s = l + v + (t if rng.random() < 0.6 else "")
        cases.append((s, norm.normalize_str(s)))
    marks = [cp for cp in range(0x300, 0x370)] + [0x05B0, 0x0E38, 0x093C, 0x3099, 0x1DC0, 0x1AC5, 0x0D3B, 0x08D5, 0x1AC4, 0x08F1]
    for _ in range(3000):  # canonical reordering of mark runs
        s = rng.choice("aeioucnAEOUs") + "".join(chr(rng.choice(marks)) for _ in range(rng.randrange(1, 5)))
        cases.append((s, norm.normalize_str(s)))
    return cases


def hexs(s):
    return " ".join("%X" % ord(c) for c in s)


def cmd_unicode(args, tok):
    pt = tok.pre_tokenizer
    classes = hf_classes(pt)
    with open(args.unicode_out, "w", encoding="ascii") as f:
        f.write("# HF tokenizers %s: per-code-point classes of the Qwen2 Split regex, probed through\n"
                "# tokenizer.pre_tokenizer (tools/make_tokenizer_corpus.py unicode). Python unicodedata %s.\n"
                % (tokenizers_version(), unicodedata.unidata_version))
        f.write("# class START END CLS   (L letter, N number, S whitespace, R CR/LF, O other)\n")
        for a, b, c in to_ranges(classes):
            f.write("class %X %X %s\n" % (a, b, c))
        f.write("# contraction PROBE: HF's first piece is PROBE minus its last char\n")
        for probe in sorted(set(contraction_probes(pt, classes))):
            f.write("contraction %s\n" % hexs(probe))
        f.write("# nfc IN ; OUT   (HF normalizers.NFC)\n")
        for a, b in nfc_cases(normalizers.NFC()):
            f.write("nfc %s ; %s\n" % (hexs(a), hexs(b)))
    py = py_classes()
    diff = [cp for cp in range(MAX_CP) if py[cp] != classes[cp]]
    print("unicode: %d code points where HF and unicodedata %s disagree%s" %
          (len(diff), unicodedata.unidata_version, (": " + " ".join("%X" % c for c in diff[:40])) if diff else ""))


def tokenizers_version():
    import tokenizers
    return tokenizers.__version__


def cmd_tables(args):
    inert = hf_inert_code_points()
    with open(args.inert_out, "w", encoding="ascii") as f:
        f.write("// Generated by tools/make_tokenizer_corpus.py tables: code points that Unicode 16 (Python\n"
                "// unicodedata %s) normalizes but HF tokenizers' NFC (older Unicode data) leaves alone as plain\n"
                "// starters; found by probing HF's normalizers.NFC/NFD code point by code point.\n" % unicodedata.unidata_version)
        for cp in inert:
            f.write("0x%X,\n" % cp)
    print("tables: %d code points inert for HF NFC" % len(inert))
    classes = py_classes()
    ranges = [r for r in to_ranges(classes) if r[2] != "O"]
    with open(args.tables_out, "w", encoding="ascii") as f:
        f.write("// Generated by tools/make_tokenizer_corpus.py tables from Python unicodedata %s\n"
                "// (general categories L*, N*; White_Space): {first, last, class} ranges, sorted.\n"
                "// tests/unit/tokenizer_unicode_test.cpp checks them against HF's regex, code point by code point.\n"
                % unicodedata.unidata_version)
        for a, b, c in ranges:
            f.write("{0x%X, 0x%X, k%s},\n" % (a, b, {"L": "Letter", "N": "Number", "S": "Space", "R": "CrLf"}[c]))
    print("tables: %d ranges" % len(ranges))


# ----------------------------------------------------------------------------------------------
# Parity corpus

SCRIPTS = {  # name: list of (first, last) code point ranges used to build words
    "latin": [(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xFF), (0x100, 0x17F)],
    "cyrillic": [(0x410, 0x44F), (0x450, 0x45F)],
    "greek": [(0x391, 0x3A9), (0x3B1, 0x3C9), (0x386, 0x38F)],
    "arabic": [(0x621, 0x64A), (0x660, 0x669), (0x64B, 0x652)],
    "hebrew": [(0x5D0, 0x5EA), (0x5B0, 0x5BC)],
    "devanagari": [(0x905, 0x939), (0x93E, 0x94D), (0x966, 0x96F)],
    "bengali": [(0x985, 0x9B9), (0x9BE, 0x9CD), (0x9E6, 0x9EF)],
    "thai": [(0xE01, 0xE2E), (0xE30, 0xE3A), (0xE40, 0xE4E), (0xE50, 0xE59)],
    "cjk": [(0x4E00, 0x9FFF), (0x3040, 0x309F), (0x30A0, 0x30FF), (0x3400, 0x3500), (0x20000, 0x20100)],
    "hangul": [(0xAC00, 0xD7A3)],
    "georgian": [(0x10D0, 0x10FA), (0x1C90, 0x1CBA)],
    "ethiopic": [(0x1200, 0x135A)],
    "armenian": [(0x531, 0x556), (0x561, 0x587)],
    "tamil": [(0xB85, 0xBB9), (0xBBE, 0xBCD), (0xBE6, 0xBF2)],
    "khmer": [(0x1780, 0x17D2)],
    "tibetan": [(0xF40, 0xF6C), (0xF71, 0xF84)],
    "mongolian": [(0x1820, 0x1878), (0x180B, 0x180F)],
    "math": [(0x1D400, 0x1D7FF), (0x2200, 0x22FF)],
}

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Der schnelle braune Fuchs springt über den faulen Hund — Größe, Straße, Äpfel.",
    "Le cœur a ses raisons que la raison ne connaît point. L'été, c'est déjà là!",
    "¿Dónde está la biblioteca? ¡Qué día más bonito! Niño, año, pingüino.",
    "Быстрая коричневая лиса прыгает через ленивую собаку. Ёжик в тумане.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από το τεμπέλικο σκυλί. ΆΈΉΊΌΎΏ",
    "الثعلب البني السريع يقفز فوق الكلب الكسول. مرحبا بالعالم ١٢٣٤٥",
    "השועל החום המהיר קופץ מעל הכלב העצלן. שָׁלוֹם עֲלֵיכֶם",
    "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है। नमस्ते दुनिया १२३",
    "দ্রুত বাদামী শিয়াল অলস কুকুরের উপর দিয়ে লাফ দেয়। ০১২৩৪৫",
    "สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ ภาษาไทย ๑๒๓",
    "敏捷的棕色狐狸跳过了懒狗。我爱北京天安门！「引号」、句号。",
    "素早い茶色の狐が怠け者の犬を飛び越える。カタカナとひらがな、漢字。",
    "빠른 갈색 여우가 게으른 개를 뛰어넘습니다. 안녕하세요, 세계!",
    "სწრაფი ყავისფერი მელა ხტება ზარმაც ძაღლზე. ᲛᲗᲐᲕᲠᲣᲚᲘ",
    "ፈጣኑ ቡናማ ቀበሮ ሰነፉን ውሻ ዘለለ። ሰላም ለዓለም ፩፪፫",
    "Ô sông Hương, nước chảy êm đềm; Tiếng Việt có dấu: ạ ả ã ặ ẳ ẵ ệ ể ễ.",
    "Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Türkçe: İstanbul, ığdır, şeker, çiçek, öğretmen, ÜĞİŞÇÖ.",
    "Ελληνικά, Русский, العربية, עברית, हिन्दी, বাংলা, ไทย, 中文, 日本語, 한국어",
    "What's the time? I'm here, you're there, they've gone, we'll see, he'd know, it's fine.",
    "WHAT'S UP? I'M OK. YOU'RE LATE. THEY'VE LEFT. WE'LL GO. HE'D KNOW. DON'T!",
    "It’s a curly apostrophe: don’t, won’t, we’re, they’ve, I’ll, she’d, ’s.",
    "Prices: $1,234.56, €99, ¥1000, £5 — 50% off! ½ cup, ¾ mile, ²³ ⁴, Ⅻ o'clock, ⅷ, 〇〡〢.",
]

CODE = [
    "def f(x):\n    return x ** 2  # square\n\nprint(f(3))\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\r\n",
    "const re = /^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)$/i; // email-ish",
    "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%o%';",
    "<html><body><p class=\"x\">Hello&nbsp;world</p></body></html>",
    "{\"key\": [1, 2.5, -3e10, null, true], \"nested\": {\"a\": \"b\"}}",
    "#include <vector>\nint main() { std::vector<int> v{1,2,3}; return v.size(); }",
    "fn main() { let s: &str = \"héllo\"; println!(\"{s:?}\"); }",
    "$ git commit -m \"fix: handle CRLF\" && ./build.sh --jobs=2 2>&1 | tee log.txt",
    "https://example.com/path/to/page?query=1&lang=en#section-2",
    "http://user:pass@例子.测试:8080/路径?q=値&x=%E2%9C%93",
    "mailto:someone@example.org, ftp://files.example.net/pub/file.tar.gz",
]

ADDED = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
         "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
         "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
         "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
         "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>",
         "<|score_token|>", "<|embed_token|>", "<|rerank_token|>"]
NEAR_MISSES = ["<|im_end|", "<<|im_start|>>", "|im_end|>", "<|im_end |>", "<|IM_END|>", "< |im_end|>",
               "<|im_end|><|im_end|>", "<|im_start|><|im_end|>", "<think", "<think>>", "<<think>",
               "</think", "<|embed_token|", "<|embed_token||>", "<|rerank_token|>x<|embed_token|>",
               "<|im_start|>user\n", "<|im_end|>\n", "<tool_call>\n{}\n</tool_call>", "<|", "|>", "<||>"]

WHITESPACE = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r\n\r\n", "\r", "\u00a0", "\u3000",
              "\u2003", "\u2009", "\u200b", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\u202f", "\u205f",
              "\u1680", " \n", "\n ", " \t\n", "\t \r\n ", "    \n    "]

EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇩🇪", "🇯🇵🇺🇸", "❤️", "🧑🏿‍💻", "1️⃣", "#️⃣", "🫠", "🤌🏻",
         "👩🏼‍🤝‍👩🏾", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "☺︎", "✌🏿", "🐈‍⬛", "😶‍🌫️", "🧔‍♀️", "🙋‍♂️"]

CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Re", "'rE", "'VE", "'vE",
                "'M", "'LL", "'Ll", "'lL", "'D", "’s", "’t", "’re", "‘ll", "'ſ", "'K", "'x", "''s", "'"]


def digits_pool():
    return [chr(cp) for cp in range(MAX_CP) if not is_surrogate(cp) and unicodedata.category(chr(cp))[0] == "N"]


def rand_word(rng, script):
    lo, hi = rng.choice(SCRIPTS[script])
    return "".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 9)))


def random_unicode(rng, n):
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.5:
            cp = rng.randrange(0x20, 0x3000)
        elif r < 0.8:
            cp = rng.randrange(0x3000, 0x10000)
        else:
            cp = rng.randrange(0x10000, 0x110000)
        if is_surrogate(cp):
            cp = 0xFFFD
        out.append(chr(cp))
    return "".join(out)


def mixed_string(rng, digits):
    parts = []
    for _ in range(rng.randint(1, 12)):
        k = rng.random()
        if k < 0.35:
            parts.append(rand_word(rng, rng.choice(list(SCRIPTS))))
        elif k < 0.45:
            parts.append(rng.choice(WHITESPACE))
        elif k < 0.52:
            parts.append(rng.choice(EMOJI))
        elif k < 0.58:
            parts.append("".join(rng.choice(digits) for _ in range(rng.randint(1, 4))))
        elif k < 0.64:
            parts.append(rng.choice(CONTRACTIONS))
        elif k < 0.70:
            parts.append(rng.choice(ADDED + NEAR_MISSES))
        elif k < 0.78:
            parts.append("".join(rng.choice("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~…—–«»“”‘’¿¡·•") for _ in range(rng.randint(1, 3))))
        elif k < 0.85:
            parts.append(unicodedata.normalize("NFD", rng.choice(SENTENCES)[: rng.randint(1, 40)]))
        elif k < 0.92:
            parts.append(random_unicode(rng, rng.randint(1, 6)))
        else:
            parts.append(rng.choice(SENTENCES)[: rng.randint(1, 60)])
        if rng.random() < 0.5:
            parts.append(" ")
    return "".join(parts)


SYS = ("You are a search relevance expert who can determine a ranking of the passages based on how relevant they "
       "are to the query. If the query is a question, how relevant a passage is depends on how well it answers the "
       "question. If not, try to analyze the intent of the query and assess how well each passage satisfies the "
       "intent. If an instruction is provided, you should follow the instruction when determining the ranking.")


def jina_prompt(query, docs):
    """docs/model.md §3 step 3 (no instruction, no_thinking=True)."""
    def sanitize(s):
        return s.replace("<|rerank_token|>", "").replace("<|embed_token|>", "")
    q = sanitize(query)
    body = ("I will provide you with %d passages, each indicated by a numerical identifier. Rank the passages based "
            "on their relevance to query: %s\n" % (len(docs), q))
    body += "\n".join('<passage id="%d">\n%s<|embed_token|>\n</passage>' % (i, sanitize(d)) for i, d in enumerate(docs))
    body += "\n" + "<query>\n%s<|rerank_token|>\n</query>" % q
    return ("<|im_start|>system\n" + SYS + "<|im_end|>\n<|im_start|>user\n" + body +
            "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")


def corpus_strings(rng):
    out = []  # (kind, text)
    digits = digits_pool()
    for s in SENTENCES + CODE + ADDED + NEAR_MISSES + WHITESPACE + EMOJI + CONTRACTIONS:
        out.append(("fixed", s))
        out.append(("fixed-nfd", unicodedata.normalize("NFD", s)))
        out.append(("fixed-nfkd", unicodedata.normalize("NFKD", s)))
    for script in SCRIPTS:  # every script: words, sentences with punctuation, digits
        for _ in range(250):
            words = [rand_word(rng, script) for _ in range(rng.randint(1, 8))]
            sep = rng.choice([" ", " ", " ", ", ", "\n", "\t", "\u3000", "  ", "。", ". ", "\u00a0"])
            out.append(("script-" + script, sep.join(words) + rng.choice(["", ".", "!", "?\n", " 123", "’s", "'S"])))
    for _ in range(1500):  # Hangul as conjoining jamo (NFD), with NFC composing them back
        s = "".join(chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(rng.randint(1, 8)))
        out.append(("hangul-nfd", unicodedata.normalize("NFD", s) + rng.choice(["", " ", "!", " 한국"])))
    for _ in range(500):  # lone / odd jamo
        s = "".join(chr(rng.choice([rng.randint(0x1100, 0x1112), rng.randint(0x1161, 0x1175), rng.randint(0x11A8, 0x11C2),
                                   rng.randint(0x3131, 0x318E), rng.randint(0xA960, 0xA97C), rng.randint(0xD7B0, 0xD7FB)]))
                    for _ in range(rng.randint(1, 6)))
        out.append(("jamo", s))
    combining = [chr(cp) for cp in range(0x300, 0x370)] + ["\u0E31", "\u0E48", "\u093F", "\u05B4", "\u0651", "\u20DD", "\u1AB0"]
    for _ in range(1500):  # combining marks, NFD and random orders
        base = rng.choice("aeiouAEIOUnNcCsSzZyYαοωиеяاהक ")
        s = base + "".join(rng.choice(combining) for _ in range(rng.randint(1, 4)))
        s += rng.choice(["", " ", "x", "1", "!"])
        out.append(("combining", s))
    for _ in range(1500):  # every kind of digit
        s = "".join(rng.choice(digits) for _ in range(rng.randint(1, 6)))
        out.append(("digits", rng.choice(["", "x", " ", "$", "v"]) + s + rng.choice(["", " ", "%", "th", "."])))
    for _ in range(1000):  # whitespace runs between words
        parts = []
        for _ in range(rng.randint(1, 6)):
            parts.append("".join(rng.choice(WHITESPACE) for _ in range(rng.randint(0, 4))))
            parts.append(rng.choice(["word", "x", "Ünï", "中文", "42", "!!", "'s", "—", "", "😀"]))
        out.append(("whitespace", "".join(parts)))
    for _ in range(1000):  # contractions in any case, with curly apostrophes
        w = rng.choice(["I", "you", "we", "They", "HE", "it", "don", "Can", "x", "123", " ", "", "l", "中"])
        c = rng.choice(CONTRACTIONS)
        out.append(("contraction", w + c + rng.choice(["", " ", "s", "t", "re", "ing", "ll", "!", "\n", "ve", "d", "S"])))
    for _ in range(1500):  # added tokens and near misses in text
        parts = []
        for _ in range(rng.randint(1, 6)):
            parts.append(rng.choice(ADDED + NEAR_MISSES + ["hello", " ", "\n", "x", "<", ">", "|", "中", "'s"]))
        out.append(("added", "".join(parts)))
    for _ in range(800):
        out.append(("emoji", "".join(rng.choice(EMOJI + [" ", "a", "!", "\u200d", "\ufe0f", "\U0001F3FB"])
                                     for _ in range(rng.randint(1, 6)))))
    for _ in range(500):
        out.append(("code", rng.choice(CODE)[rng.randint(0, 10):] + rng.choice(["", "\n", " ", "\r\n"])))
    for _ in range(3500):
        out.append(("mixed", mixed_string(rng, digits)))
    for _ in range(2500):
        out.append(("random-unicode", random_unicode(rng, rng.randint(1, 40))))
    for _ in range(40):
        out.append(("long-random-unicode", random_unicode(rng, rng.randint(300, 1500))))
    for _ in range(15):
        out.append(("long-mixed", "".join(mixed_string(rng, digits) for _ in range(rng.randint(20, 80)))))
    for _ in range(1000):
        out.append(("ascii", "".join(chr(rng.randint(0, 127)) for _ in range(rng.randint(1, 30)))))
    for ch in ["a", " ", "\n", "1", "!", "中", "é", "😀", "\u0301", "ab", "\r\n", "\t "]:  # runs of one thing
        out.append(("run", ch * rng.choice([50, 333, 1000])))
    # Whole jina prompts.
    for _ in range(40):
        n = rng.randint(1, 6)
        docs = [mixed_string(rng, digits) for _ in range(n)]
        if rng.random() < 0.3:
            docs.append("")
        q = rng.choice(SENTENCES) if rng.random() < 0.5 else mixed_string(rng, digits)
        out.append(("jina-prompt", jina_prompt(q, docs)))
    out.append(("jina-prompt", jina_prompt("q", [""])))
    out.append(("jina-prompt", jina_prompt("q", ["", ""])))
    out.append(("jina-prompt", jina_prompt("What is the capital of France?", ["Paris is the capital of France.",
                "Berlin ist die Hauptstadt Deutschlands.", "東京は日本の首都です。", "La capitale de la France est Paris."])))
    return out


def decode_cases(rng, tok, vocab_size):
    """Random id sequences (cut UTF-8 included) and HF's decode of each."""
    cases = []
    for _ in range(1500):
        ids = [rng.randrange(vocab_size) if rng.random() < 0.85 else rng.randrange(151643, vocab_size)
               for _ in range(rng.randint(1, 12))]
        cases.append(ids)
    for _ in range(1500):  # byte tokens only: mostly broken UTF-8
        cases.append([rng.randrange(0, 256) for _ in range(rng.randint(1, 10))])
    return [(ids, tok.decode(ids, skip_special_tokens=False)) for ids in cases]


def added_token_cases(path):
    """Added tokens with lstrip/rstrip/single_word/normalized and overlapping contents (Qwen3's own
    have none of these), registered through HF's API; their tokenizer.json entries + HF's ids."""
    from tokenizers import AddedToken
    tok = Tokenizer.from_file(path)
    extra = [AddedToken("ab", normalized=False), AddedToken("abc", normalized=False), AddedToken("bcd", normalized=False),
             AddedToken("[L]", lstrip=True, normalized=False), AddedToken("[R]", rstrip=True, normalized=False),
             AddedToken("[W]", single_word=True, normalized=False), AddedToken("\u00e9!", normalized=True),
             AddedToken("[LR]", lstrip=True, rstrip=True, normalized=False)]
    tok.add_tokens(extra)
    contents = {a.content for a in extra}
    cases = ["abcd", "xabcde", "abab", "bcdabc", "a [L] b", "a  \t[L]b", "[L]", "x [R]  y", "[R]\n\nz", "a[W]b",
             "a [W] b", "_[W]_", "1[W]", "[W]", "\u00e9[W]", "e\u0301! x", "\u00e9! y", "x [LR]  y", "  [LR]  ",
             "[R] [L]", "[R][L]", "a\u3000[L]", "q\u00a0[R]\u00a0w", "[LR][LR]", "\u0085[L]", "x\u2028[R]\u2029y"]
    return {"added_tokens": [a for a in json.loads(tok.to_str())["added_tokens"] if a["content"] in contents],
            "cases": [{"text": c, "ids": tok.encode(c, add_special_tokens=False).ids} for c in cases]}


def cmd_corpus(args, tok):
    with open(args.added_out, "w", encoding="utf-8") as f:
        json.dump(added_token_cases(args.tokenizer), f, ensure_ascii=False, indent=1)
    rng = random.Random(args.seed)
    strings = corpus_strings(rng)
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    n = 0
    with open(args.corpus_out, "w", encoding="utf-8", newline="\n") as f:
        for kind, text in strings:
            ids = tok.encode(text, add_special_tokens=False).ids
            dec = tok.decode(ids, skip_special_tokens=False)
            rec = {"kind": kind, "text": text, "ids": " ".join(map(str, ids))}
            if dec != text:
                rec["decoded"] = dec
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
        for ids, dec in decode_cases(rng, tok, vocab_size):
            f.write(json.dumps({"kind": "decode", "ids": " ".join(map(str, ids)), "decoded": dec},
                               ensure_ascii=False) + "\n")
            n += 1
    print("corpus: %d records (%d encode strings)" % (n, len(strings)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["unicode", "tables", "corpus", "all"])
    ap.add_argument("--tokenizer", default=".deps/tokenizer/tokenizer.json")
    ap.add_argument("--seed", type=int, default=20251125)
    ap.add_argument("--unicode-out", default="tests/data/tokenizer/hf_unicode.txt")
    ap.add_argument("--tables-out", default="src/tokenizer/unicode_class_table.inc")
    ap.add_argument("--inert-out", default="src/tokenizer/nfc_inert_table.inc")
    ap.add_argument("--corpus-out", default="tests/data/tokenizer/parity_corpus.jsonl")
    ap.add_argument("--added-out", default="tests/data/tokenizer/added_token_cases.json")
    args = ap.parse_args()
    tok = Tokenizer.from_file(args.tokenizer)
    if args.what in ("tables", "all"):
        cmd_tables(args)
    if args.what in ("unicode", "all"):
        cmd_unicode(args, tok)
    if args.what in ("corpus", "all"):
        cmd_corpus(args, tok)


if __name__ == "__main__":
    sys.exit(main())
