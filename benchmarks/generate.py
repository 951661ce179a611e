"""Generate three equivalent benchmark corpora: briefgen, Pelican and Hugo.

    python benchmarks/generate.py TARGET --count N [--seed S] [--shape NAME]

writes, deterministically from the seed,

    TARGET/briefgen/   briefgen.toml, content/briefings/YYYY/*.md,
                       content/sources/registry.yaml (or one file per publisher),
                       templates/briefing.html
    TARGET/pelican/    pelicanconf.py, content/*.md (Pelican Markdown metadata),
                       theme/ (a copy of Pelican's "notmyidea" theme, when Pelican is installed)
    TARGET/hugo/       hugo.toml, content/posts/*.md (YAML front matter), layouts/
    TARGET/spare/      one more briefing per corpus, kept out of them (see the manifest)
    TARGET/manifest.json  the files of each briefing in each corpus, oldest first

In the default shape, every briefing is about 600 words of Markdown (headings,
paragraphs, a bullet list, sometimes a table or a footnote, a few inline links) citing
2-4 sources of a shared registry of 300 sources from 25 publishers. Pelican and Hugo have no citation
support, so there the markers become plain bracketed numbers and the body ends
with a numbered Sources list, which keeps the Markdown work comparable.

The other shapes (SHAPES below, `--shape NAME`) change the length and make-up of the
briefings, how many sources they cite from how large a registry, and how many topics the
site has; the three corpora of a shape stay equivalent in the same way. The default shape's
corpora are byte for byte those written before there were other shapes.

Only the standard library is used; all randomness comes from random.Random(seed) (and,
for the spare briefing, a Random seeded from it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import itertools
import json
import re
import shutil
import sys
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from random import Random

REPO = Path(__file__).resolve().parent.parent
SOURCE_COUNT = 300
FIRST_DAY = dt.date(2019, 1, 1)
LAST_DAY = dt.date(2025, 12, 31)

PUBLISHERS = [
    ("Reuters", "reuters", "www.reuters.com"),
    ("Associated Press", "ap", "apnews.com"),
    ("BBC News", "bbc", "www.bbc.co.uk"),
    ("The Guardian", "guardian", "www.theguardian.com"),
    ("Al Jazeera", "aljazeera", "www.aljazeera.com"),
    ("Le Monde", "lemonde", "www.lemonde.fr"),
    ("Der Spiegel", "spiegel", "www.spiegel.de"),
    ("The New York Times", "nyt", "www.nytimes.com"),
    ("The Washington Post", "wapo", "www.washingtonpost.com"),
    ("Financial Times", "ft", "www.ft.com"),
    ("The Economist", "economist", "www.economist.com"),
    ("Bloomberg", "bloomberg", "www.bloomberg.com"),
    ("Nikkei Asia", "nikkei", "asia.nikkei.com"),
    ("South China Morning Post", "scmp", "www.scmp.com"),
    ("The Hindu", "hindu", "www.thehindu.com"),
    ("Deutsche Welle", "dw", "www.dw.com"),
    ("France 24", "france24", "www.france24.com"),
    ("NPR", "npr", "www.npr.org"),
    ("Politico Europe", "politico", "www.politico.eu"),
    ("The Moscow Times", "mt", "www.themoscowtimes.com"),
    ("The Kyiv Independent", "kyivindependent", "kyivindependent.com"),
    ("Haaretz", "haaretz", "www.haaretz.com"),
    ("Mail & Guardian", "mg", "mg.co.za"),
    ("El Pais", "elpais", "english.elpais.com"),
    ("UN OCHA", "ocha", "www.unocha.org"),
]

TOPICS = [
    "Syria", "Russia", "Ukraine", "China", "India", "Iran", "Turkey", "Israel",
    "European Union", "United States", "United Kingdom", "Germany", "France", "Japan",
    "Brazil", "Mexico", "South Africa", "Nigeria", "Ethiopia", "Sudan", "Venezuela",
    "Afghanistan", "Pakistan", "North Korea", "Taiwan", "Diplomacy", "Elections",
    "Energy", "Oil markets", "Climate", "Trade", "Sanctions", "Humanitarian aid",
    "Migration", "Public health", "Central banks", "Cybersecurity", "Arms control",
    "Food security", "Human rights",
]

ACTORS = [
    "Russia", "Ukraine", "China", "India", "Iran", "Turkey", "Israel", "Egypt", "Germany",
    "France", "Italy", "Spain", "Poland", "Japan", "South Korea", "Brazil", "Mexico",
    "Argentina", "Chile", "Colombia", "Nigeria", "Kenya", "Ethiopia", "South Africa",
    "Sudan", "Saudi Arabia", "Qatar", "Pakistan", "Indonesia", "Vietnam", "Australia",
    "Canada", "Norway", "Sweden", "Finland", "Greece", "Hungary", "Romania", "Serbia",
    "Georgia", "Armenia", "Azerbaijan", "Kazakhstan", "Iraq", "Jordan", "Lebanon",
    "Morocco", "Algeria", "Tunisia", "Libya", "Ghana", "Senegal", "Peru", "Venezuela",
    "Washington", "Moscow", "Beijing", "Brussels", "the EU", "NATO", "the UN", "OPEC",
    "the IMF", "the World Bank", "the G20", "the African Union", "ASEAN",
]

CITIES = [
    "Geneva", "Vienna", "Doha", "Istanbul", "Cairo", "Nairobi", "Addis Ababa", "Brussels",
    "Paris", "Berlin", "Warsaw", "Kyiv", "Moscow", "Ankara", "Tehran", "Baghdad", "Beirut",
    "Amman", "Riyadh", "Abu Dhabi", "New Delhi", "Islamabad", "Beijing", "Tokyo", "Seoul",
    "Jakarta", "Hanoi", "Canberra", "Ottawa", "Washington", "New York", "Mexico City",
    "Brasilia", "Buenos Aires", "Santiago", "Bogota", "Lagos", "Accra", "Dakar", "Pretoria",
    "Khartoum", "Tripoli", "Tunis", "Algiers", "Rabat", "Athens", "Budapest", "Bucharest",
    "Belgrade", "Tbilisi", "Yerevan", "Baku", "Astana", "Oslo", "Stockholm", "Helsinki",
    "Rome", "Madrid", "Lisbon", "London",
]

TITLE_VERBS = [
    "presses", "weighs", "rejects", "backs", "delays", "expands", "tightens", "eases",
    "signals", "announces", "suspends", "resumes", "extends", "rules out", "defends",
    "questions", "approves", "blocks", "revives", "scales back", "doubles down on",
    "pledges", "unveils", "halts", "reviews", "renews", "drops", "challenges", "courts",
    "embraces",
]

TITLE_OBJECTS = [
    "new sanctions", "grain export deal", "interest rate rise", "border talks",
    "energy subsidies", "ceasefire proposal", "aid corridor plan", "debt relief package",
    "gas pipeline project", "election timetable", "arms embargo", "tariff review",
    "refugee quota", "nuclear inspections", "fuel price cap", "port agreement",
    "security pact", "troop withdrawal", "emergency budget", "vaccine rollout",
    "minimum wage increase", "mining licences", "fishing rights accord", "rail link",
    "data protection rules", "water sharing treaty", "fertiliser exports",
    "prisoner exchange", "cyber defence pact", "carbon levy", "bond programme",
    "visa restrictions", "oil output quota", "peace talks", "currency controls",
    "food import ban", "power grid upgrade", "satellite launch", "drone export deal",
    "climate finance pledge",
]

TITLE_TAILS = [
    "after talks in {city}", "amid protests in {city}", "ahead of summit in {city}",
    "as inflation bites", "as markets wobble", "under pressure from allies",
    "despite warnings from {actor}", "in rebuke to {actor}", "with backing from {actor}",
    "as deadline nears", "after weeks of delay", "following court ruling",
    "as talks stall in {city}", "after strike in {city}", "before key vote",
    "as winter approaches", "amid budget squeeze", "after envoy visits {city}",
]

SOURCE_TITLES = [
    "{actor} {verb} {object}",
    "{actor} {verb} {object} {tail}",
    "Analysis: why {actor} {verb} {object}",
    "{actor} and {actor2} at odds over {object}",
    "Officials in {city} discuss {object}",
    "Explainer: what the {object} means for {actor}",
]

OFFICIALS = [
    "the foreign minister", "the finance minister", "the central bank governor",
    "the prime minister", "the president's spokesperson", "opposition leaders",
    "union representatives", "senior diplomats", "military officials", "the energy minister",
    "aid agencies", "regional governors", "industry groups", "independent analysts",
    "the trade commissioner", "parliamentary leaders",
]

NOUNS = [
    "the agreement", "the proposal", "the negotiations", "the sanctions regime",
    "the budget", "the ceasefire", "the new rules", "the export ban", "the aid programme",
    "the reform package", "the investigation", "the summit", "the pipeline",
    "the deployment", "the court ruling", "the election", "the price cap", "the pact",
]

VERBS_PAST = [
    "said", "told reporters", "argued", "warned", "insisted", "confirmed", "indicated",
    "acknowledged", "suggested", "stressed",
]

CLAUSES = [
    "the talks would continue next week",
    "no final decision had been taken",
    "the measures would be reviewed within three months",
    "the government was prepared to compromise on the details",
    "the timetable was unrealistic",
    "funding would come from existing budgets",
    "the deal fell short of what had been promised",
    "further sanctions could not be ruled out",
    "the situation on the ground had deteriorated",
    "the figures were better than expected",
    "the plan enjoyed broad support in parliament",
    "the negotiations had reached a critical stage",
    "the costs would be shared among member states",
    "the decision reflected changed market conditions",
    "the security situation remained fragile",
    "the proposal needed more work before it could be signed",
]

SENTENCES = [
    "{Official} {verb_past} that {clause}.",
    "According to {official}, {clause}.",
    "{Actor} has long opposed {noun}, and {official} {verb_past} that {clause}.",
    "The move comes {weeks} weeks after {actor} first raised concerns about {noun}.",
    "Prices rose {pct} percent in {month}, the fastest pace in {years} years.",
    "Talks in {city} ended without agreement on {noun}, and {official} {verb_past} that {clause}.",
    "Some {number} people were affected, according to figures published on {weekday}.",
    "{Actor} said it would respond to {noun} in the coming days.",
    "Critics said {noun} would do little to change the balance of power in the region.",
    "The announcement followed a meeting of {official} in {city} on {weekday}.",
    "Analysts expect {noun} to cost about {amount} billion dollars over {years} years.",
    "Officials in {city} described the mood as cautious but constructive.",
    "The vote was postponed until {month}, when {official} will present a revised draft.",
    "{Actor} and {actor2} have held {rounds} rounds of talks since {month}.",
    "Markets reacted calmly, with the main index closing {pct} percent higher.",
    "It was not immediately clear whether {noun} would survive a legal challenge.",
    "Diplomats in {city} said privately that {clause}.",
    "The figure compares with {number} a year earlier.",
]

BULLETS = [
    "{Actor} wants {noun} extended by {weeks} weeks",
    "{Official} in {city} asked for more time",
    "Turnout in the last vote was {pct} percent",
    "The cost is put at {amount} billion dollars",
    "{Actor} has called for an emergency meeting in {city}",
    "About {number} people remain displaced",
    "The next round of talks is set for {month}",
    "Exports fell {pct} percent in the first quarter",
    "{Official} {verb_past} that {clause}",
]

HEADINGS = [
    "What happened", "Background", "The numbers", "Reactions", "What to watch",
    "The context", "Why it matters", "The regional picture", "Market response",
    "Next steps", "The dispute", "On the ground",
]

LINK_TEXTS = ["the statement", "the full report", "official figures", "the draft text",
              "the ministry's notice", "the court ruling", "the joint communique"]
LINK_HOSTS = ["www.un.org", "www.gov.uk", "ec.europa.eu", "www.imf.org", "www.worldbank.org",
              "www.state.gov", "www.opec.org", "www.who.int"]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

FOOTNOTES = [
    "Figures are provisional and may be revised.",
    "The ministry did not respond to a request for comment.",
    "Earlier reports gave a lower estimate.",
    "Exchange rate as of the date of publication.",
]

_FIELD = re.compile(r"\{(\w+)\}")
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_CITATION = re.compile(r"\[(@[^\]]+)\]")


def slugify(text: str) -> str:
    return _NON_SLUG.sub("-", text.lower()).strip("-")


class Writer:
    """Builds realistic text from the word lists with one seeded Random."""

    def __init__(self, rng: Random, lexicon: Lexicon | None = None) -> None:
        self.rng = rng
        self.lexicon = lexicon
        self.last_actor = ""
        r = rng
        self.fillers = {
            "actor": self._actor,
            "actor2": lambda: r.choice([a for a in ACTORS if a != self.last_actor]),
            "Actor": lambda: _cap(self._actor()),
            "official": lambda: r.choice(OFFICIALS),
            "Official": lambda: _cap(r.choice(OFFICIALS)),
            "noun": lambda: r.choice(NOUNS),
            "verb_past": lambda: r.choice(VERBS_PAST),
            "clause": lambda: r.choice(CLAUSES),
            "city": lambda: r.choice(CITIES),
            "weeks": lambda: str(r.randint(2, 12)),
            "rounds": lambda: str(r.randint(2, 15)),
            "years": lambda: str(r.randint(2, 30)),
            "pct": lambda: f"{r.randint(1, 19)}.{r.randint(0, 9)}",
            "amount": lambda: f"{r.randint(1, 90)}.{r.randint(0, 9)}",
            "number": lambda: f"{r.randint(2, 950):,}",
            "month": lambda: r.choice(MONTHS),
            "weekday": lambda: r.choice(WEEKDAYS),
            "verb": lambda: r.choice(TITLE_VERBS),
            "object": lambda: r.choice(TITLE_OBJECTS),
            "tail": lambda: self.fill(r.choice(TITLE_TAILS)),
        }
        if lexicon is not None:  # the fields of LEXICON_SENTENCES
            self.fillers.update(Name=lambda: _cap(lexicon.word()), Place=lambda: _cap(lexicon.word()),
                                term=lexicon.word)

    def _actor(self) -> str:
        self.last_actor = self.rng.choice(ACTORS)
        return self.last_actor

    def fill(self, template: str) -> str:
        return _FIELD.sub(lambda m: self.fillers[m.group(1)](), template)

    def sentence(self) -> str:
        if self.lexicon is not None and self.rng.random() < 0.5:
            return self.fill(self.rng.choice(LEXICON_SENTENCES))
        return self.fill(self.rng.choice(SENTENCES))

    def title(self) -> str:
        r = self.rng
        text = f"{r.choice(ACTORS)} {r.choice(TITLE_VERBS)} {r.choice(TITLE_OBJECTS)}"
        if r.random() < 0.8:
            text += " " + self.fill(r.choice(TITLE_TAILS))
        return _cap(text)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- a news archive's vocabulary (the `wide` shape) --------------------------------------------
#
# The word lists above give every corpus about 1,500 distinct words, however large; an
# archive of real briefings meets new names, places and terms with every story, most of them
# rare. Search costs per distinct word as well as per word, so one shape draws half its
# sentences' names from a lexicon ranked by Zipf's law.

LEXICON_SIZE = 300_000
_SYLLABLES = ["ba", "da", "ka", "la", "ma", "na", "ra", "sa", "ta", "va", "be", "de", "ke", "le",
              "me", "ne", "re", "se", "te", "ve", "bi", "di", "ki", "li", "mi", "ni", "ri", "si",
              "ti", "vi", "bo", "do", "ko", "lo", "mo", "no", "ro", "so", "to", "vo", "dun", "kor",
              "lin", "mar", "nes", "rak", "sol", "tav", "vet", "zan"]

LEXICON_SENTENCES = [
    "{Name}, who heads the {term} office in {Place}, {verb_past} that {clause}.",
    "Residents of {Place} reported shortages of {term} and {term} on {weekday}.",
    "The {term} plant near {Place} was closed after {Name} raised concerns about {noun}.",
    "{Name} and {Name} met in {Place} to discuss {noun} and the {term} dispute.",
    "Officials in {Place} said the {term} programme would cost about {amount} billion dollars.",
    "A spokesperson for the {Name} group described the {term} talks as constructive.",
    "Protesters gathered outside the {term} ministry in {Place}, according to {Name}.",
    "The {Name} commission will publish its report on {term} in {month}.",
]


def lexicon_word(rank: int) -> str:
    """The lexicon's word of a rank: the syllables of its digits in base len(_SYLLABLES), so
    that each rank is one word, of two syllables or more, and the same in every run."""
    value = rank + len(_SYLLABLES)
    syllables = []
    while value:
        value, digit = divmod(value, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
    return "".join(reversed(syllables))


class Lexicon:
    """Words drawn by Zipf's law (a word's chance falls as 1 / rank) from LEXICON_SIZE."""

    def __init__(self, rng: Random, size: int = LEXICON_SIZE) -> None:
        self.rng = rng
        self.bounds = list(itertools.accumulate(1 / rank for rank in range(1, size + 1)))

    def word(self) -> str:
        return lexicon_word(bisect_right(self.bounds, self.rng.random() * self.bounds[-1]))



def _briefing_days(rng: Random, count: int) -> list[dt.date]:
    """One date per briefing, oldest first: 1-3 briefings a day on about count/2 days.

    The days are drawn from 2019-2025; a corpus too large for that (more than ~5,000
    briefings) starts earlier instead of piling more briefings onto each day.
    """
    span = max((LAST_DAY - FIRST_DAY).days + 1, -(-count // 2))
    first = LAST_DAY - dt.timedelta(days=span - 1)
    day_count = min(span, max(1, round(count / 2)))
    offsets = sorted(rng.sample(range(span), day_count))
    per_day = [1] * day_count
    open_days = list(range(day_count))
    for _ in range(count - day_count):
        pick = rng.randrange(len(open_days))
        index = open_days[pick]
        per_day[index] += 1
        if per_day[index] == 3:
            open_days[pick] = open_days[-1]
            open_days.pop()
    days: list[dt.date] = []
    for offset, n in zip(offsets, per_day, strict=True):
        days.extend([first + dt.timedelta(days=offset)] * n)
    return days


def _sources(rng: Random, writer: Writer, first: dt.date,
             count: int = SOURCE_COUNT) -> list[dict[str, str]]:
    """The shared registry: `count` sources, oldest first, spread over the corpus' years."""
    span = (LAST_DAY - first).days + 1
    ids: set[str] = set()
    sources = []
    for i in range(count):
        name, key, host = PUBLISHERS[i % len(PUBLISHERS)]
        while True:
            title = _cap(writer.fill(rng.choice(SOURCE_TITLES)))
            words = slugify(title).split("-")
            source_id = f"{key}-{'-'.join(words[:4])}"
            if source_id not in ids:
                break
        ids.add(source_id)
        published = first + dt.timedelta(days=rng.randrange(span))
        sources.append({
            "id": source_id, "title": title, "publisher": name,
            "url": f"https://{host}/{published:%Y/%m/%d}/{slugify(title)}",
            "published": published.isoformat(),
        })
    sources.sort(key=lambda s: (s["published"], s["id"]))
    return sources


def _body(rng: Random, writer: Writer, cited: list[str]) -> str:
    """About 600 words of Markdown citing each id in `cited` at least once."""
    # Citation markers for the body, in order: every source once, some twice.
    markers = _markers(rng, cited, 0)
    for _ in range(rng.randint(1, 3)):
        markers.append(f"[@{rng.choice(cited)}]")

    def cite() -> str:
        return " " + markers.pop(0) if markers else ""

    def paragraph(sentences: int, with_cite: bool = True) -> str:
        text = " ".join(writer.sentence() for _ in range(sentences))
        if with_cite and markers:
            text = text[:-1] + cite() + "."
        return text

    blocks = [paragraph(rng.randint(4, 5))]
    footnote = rng.random() < 0.2
    table = rng.random() < 0.15
    headings = rng.sample(HEADINGS, 4)
    links = rng.randint(1, 3)
    for number, heading in enumerate(headings):
        blocks.append(f"### {heading}")
        for _ in range(2 if number < 3 else 1):
            text = paragraph(rng.randint(4, 5))
            if links and rng.random() < 0.5:
                links -= 1
                host = rng.choice(LINK_HOSTS)
                text += (f" The details are set out in [{rng.choice(LINK_TEXTS)}]"
                         f"(https://{host}/press/{rng.randint(1000, 99999)})." )
            if footnote and number == 1:
                text = text[:-1] + "[^1]."
                footnote = False
                blocks.append(text)
                blocks.append("[^1]: " + rng.choice(FOOTNOTES))
                continue
            blocks.append(text)
        if number == 1:
            items = [writer.fill(rng.choice(BULLETS)) for _ in range(rng.randint(3, 5))]
            items = [item[:1].upper() + item[1:] + (cite() if i == 0 else "") + "."
                     for i, item in enumerate(items)]
            blocks.append("\n".join("- " + item for item in items))
        if number == 2 and table:
            rows = ["| Indicator | Value | Change |", "| --- | ---: | ---: |"]
            for label in rng.sample(["Inflation", "Unemployment", "GDP growth", "Exports",
                                     "Imports", "Budget deficit", "Oil output"], 4):
                rows.append(f"| {label} | {rng.randint(1, 40)}.{rng.randint(0, 9)}% "
                            f"| {rng.choice('+-')}{rng.randint(0, 5)}.{rng.randint(0, 9)} |")
            blocks.append("\n".join(rows))
    while markers:  # whatever is left goes into the closing paragraph
        blocks.append(paragraph(2))
    if links:
        blocks.append(f"See [{rng.choice(LINK_TEXTS)}](https://{rng.choice(LINK_HOSTS)}/"
                      f"press/{rng.randint(1000, 99999)}) for the full text.")
    return "\n\n".join(blocks) + "\n"


# --- Chinese characters (the `cjk` shape) --------------------------------------------------------
#
# Chinese and Japanese are written without spaces between words, and search indexes them by
# pairs of characters: a corpus in English measures none of that. The `cjk` shape writes the
# `wide` briefings in characters: every English word becomes a word of characters of its own,
# always the same (a hash picks them), and the spaces between words go. A function word is one
# character of a few common ones; a lexicon name (made of its syllables) one character for
# about two letters, two to four; any other word two characters, or three when of ten letters
# or more; all drawn from the first 3,500 of the unified ideographs. The
# Markdown around the words (headings, lists, tables, links, citations, footnotes) is kept.

_HANZI = [chr(0x4E00 + i) for i in range(3500)]
_FUNCTION_HANZI = "的了在和是有对将于与从被等也已为这其而并"
_FUNCTION_WORDS = frozenset((
    "a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "with", "from", "and", "or", "but",
    "as", "is", "are", "was", "were", "be", "been", "has", "have", "had", "will", "would", "its", "it",
    "that", "this", "which", "who", "after", "before", "over", "about", "into", "than", "not", "no"))
# Left as they are: citations, link targets, footnote markers, URLs.
_KEEP_OR_WORD = re.compile(r"(\[@[^\]]*\]|\]\([^)]*\)|\[\^\d+\]|https?://\S+)|([A-Za-z]+(?:['\u2019][A-Za-z]+)?)")
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff]) +(?=[\u4e00-\u9fff])")
_CJK_STOP = re.compile(r"(?<=[\u4e00-\u9fff])\.( |$)", re.M)
_CJK_COMMA = re.compile(r"(?<=[\u4e00-\u9fff]), ?")


def hanzi_word(word: str) -> str:
    """The characters an English word is written as: the same for the same word, in any run."""
    key = word.lower()
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    if key in _FUNCTION_WORDS:
        return _FUNCTION_HANZI[digest[0] % len(_FUNCTION_HANZI)]
    long_word = 3 if len(key) >= 10 else 2
    size = max(2, min(4, len(key) // 2)) if _is_lexicon_word(key) else long_word
    return "".join(_HANZI[int.from_bytes(digest[2 * i:2 * i + 2], "little") % len(_HANZI)]
                   for i in range(size))


def _is_lexicon_word(word: str) -> bool:
    """Whether a word is made of the lexicon's syllables (lexicon_word), as its names are."""
    at = 0
    while at < len(word):
        for size in (3, 2):
            if word[at:at + size] in _SYLLABLES:
                at += size
                break
        else:
            return False
    return True


def hanzi_text(text: str) -> str:
    """English Markdown written in characters (see above): words replaced, the spaces between
    them dropped, full stops and commas after them made Chinese ones."""
    def replace(match: re.Match[str]) -> str:
        return match.group(1) or hanzi_word(match.group(2))

    text = _KEEP_OR_WORD.sub(replace, text)
    text = _CJK_SPACE.sub("", text)
    text = _CJK_STOP.sub("。", text)
    return _CJK_COMMA.sub("\uff0c", text)


# --- corpus shapes beside the default one ----------------------------------------------------
#
# One shape of corpus lets a build be tuned to it without anyone noticing; the others
# vary what costs time: text length, Markdown features, citations per page, topic count.


@dataclass(frozen=True)
class Plan:
    """The make-up of a briefing body; every range is inclusive."""

    lead: tuple[int, int]                  # sentences in the opening paragraph
    sections: tuple[int, int]              # headed sections after it
    heading: str = "###"                   # level of a section's heading
    subsections: tuple[int, int] = (0, 0)  # "###" parts in each section
    paragraphs: tuple[int, int] = (1, 2)   # per section, or per subsection when there are any
    sentences: tuple[int, int] = (4, 5)    # per paragraph
    lists: tuple[int, int] = (0, 1)        # bullet or numbered lists of 3-5 items
    tables: tuple[int, int] = (0, 0)
    footnotes: tuple[int, int] = (0, 0)
    links: tuple[int, int] = (0, 0)        # inline links inside sentences
    quotes: tuple[int, int] = (0, 0)       # block quotes
    recite: tuple[int, int] = (0, 0)       # further citations of sources already cited


@dataclass(frozen=True)
class Shape:
    name: str
    about: str
    sources: int = SOURCE_COUNT            # registry size
    pool: int = 60                         # a briefing cites among this many recent sources
    cited: tuple[int, int] = (2, 4)        # distinct sources a briefing cites
    plan: Plan | None = None               # None: the default shape's body
    many_topics: bool = False
    lexicon: bool = False                  # half the sentences name words of a Lexicon
    cjk: bool = False                      # titles, summaries and bodies in characters (hanzi_text)


SHAPES = {shape.name: shape for shape in [
    Shape("default", "about 600 words with headings, a list, sometimes a table or a footnote, "
          "2-4 citations of 300 sources, 40 topics"),
    Shape("short", "about 150 words, 1-2 citations",
          cited=(1, 2), plan=Plan(lead=(5, 6), sections=(1, 1), paragraphs=(1, 1),
                                  sentences=(3, 5), links=(0, 1))),
    Shape("long", "about 2,500 words with ## and ### headings, bullet and numbered lists, "
          "2-3 tables, 3-6 footnotes, 5-8 cited sources",
          cited=(5, 8), plan=Plan(lead=(5, 6), sections=(6, 7), heading="##", subsections=(2, 2),
                                  paragraphs=(2, 2), sentences=(5, 7), lists=(3, 5), tables=(2, 3),
                                  footnotes=(3, 6), links=(2, 5), quotes=(0, 1), recite=(3, 6))),
    Shape("cited", "about 600 words citing 10-16 sources (14-24 citations) from a registry "
          "of 5,000",
          sources=5000, pool=400, cited=(10, 16),
          plan=Plan(lead=(4, 5), sections=(4, 4), paragraphs=(2, 2), sentences=(4, 5),
                    tables=(0, 1), footnotes=(0, 1), links=(1, 3), recite=(4, 8))),
    Shape("topics", "the default briefings spread over 2,000 topics besides the 40 common ones, "
          "2-5 topics each",
          many_topics=True),
    Shape("prose", "about 600 words of prose: ## headings, bullet and numbered lists, "
          "4-8 inline links, block quotes, 1-3 citations",
          cited=(1, 3), plan=Plan(lead=(4, 6), sections=(3, 4), heading="##", paragraphs=(2, 2),
                                  sentences=(4, 6), lists=(1, 2), links=(4, 8), quotes=(0, 1),
                                  recite=(0, 1))),
    Shape("wide", "the default briefings in a news archive's vocabulary: half their sentences "
          "name people, places and things drawn by Zipf's law from 300,000 words",
          lexicon=True),
    Shape("cjk", "the `wide` briefings written in Chinese characters, no spaces between words "
          "(a site in Chinese)",
          lexicon=True, cjk=True),
]}
TOPIC_COUNT = 2000


def _many_topics(rng: Random) -> list[str]:
    """TOPIC_COUNT topic names with distinct slugs, such as "Kenya fishing rights accord"."""
    names: dict[str, str] = {}
    for place in ACTORS + CITIES:
        for thing in TITLE_OBJECTS:
            name = _cap(f"{place} {thing}")
            names.setdefault(slugify(name), name)
    return rng.sample(list(names.values()), TOPIC_COUNT)


class TopicDeck:
    """Deals the many topics in turn, reshuffled each round, so that every one is used once
    the corpus is large enough; about half the briefings also get one of the common TOPICS,
    whose pages then paginate."""

    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self.names = _many_topics(rng)
        self.next = 0

    def deal(self) -> list[str]:
        topics = [self.rng.choice(TOPICS)] if self.rng.random() < 0.5 else []
        for _ in range(self.rng.randint(2, 4)):
            if self.next == len(self.names):
                self.rng.shuffle(self.names)
                self.next = 0
            name = self.names[self.next]
            self.next += 1
            if name not in topics:
                topics.append(name)
        return topics


def _markers(rng: Random, cited: list[str], extra: int) -> list[str]:
    """Citation markers: every source once (some grouped, some with a locator), then `extra`
    citations of sources already cited."""
    markers: list[str] = []
    queue = list(cited)
    while queue:
        source_id = queue.pop(0)
        roll = rng.random()
        if roll < 0.12 and queue:
            markers.append(f"[@{source_id}; @{queue.pop(0)}]")
        elif roll < 0.27:
            markers.append(f"[@{source_id}, para. {rng.randint(1, 12)}]")
        else:
            markers.append(f"[@{source_id}]")
    for _ in range(extra):
        markers.append(f"[@{rng.choice(cited)}, para. {rng.randint(1, 12)}]"
                       if rng.random() < 0.3 else f"[@{rng.choice(cited)}]")
    return markers


def _link(rng: Random) -> str:
    return f"https://{rng.choice(LINK_HOSTS)}/press/{rng.randint(1000, 99999)}"


def _with_link(rng: Random, sentence: str) -> str:
    """Turns a phrase of the sentence into a link, or adds one before its full stop."""
    for phrase in rng.sample(NOUNS + OFFICIALS + CITIES, len(NOUNS + OFFICIALS + CITIES)):
        at = sentence.find(phrase)
        if at > 0:
            return f"{sentence[:at]}[{phrase}]({_link(rng)}){sentence[at + len(phrase):]}"
    return f"{sentence[:-1]} (see [{rng.choice(LINK_TEXTS)}]({_link(rng)}))."


def _table(rng: Random) -> str:
    labels = ["Inflation", "Unemployment", "GDP growth", "Exports", "Imports", "Budget deficit",
              "Oil output", "Food prices", "Debt ratio", "Current account"]
    years = sorted(rng.sample(range(2015, 2026), 2))
    rows = [f"| Indicator | {years[0]} | {years[1]} | Change |", "| --- | ---: | ---: | ---: |"]
    for label in rng.sample(labels, rng.randint(4, 7)):
        a, b = rng.randint(1, 400) / 10, rng.randint(1, 400) / 10
        rows.append(f"| {label} | {a:.1f}% | {b:.1f}% | {b - a:+.1f} |")
    return "\n".join(rows)


def _list(rng: Random, writer: Writer) -> str:
    items = [_cap(writer.fill(rng.choice(BULLETS))) + "." for _ in range(rng.randint(3, 5))]
    numbered = rng.random() < 0.4
    return "\n".join(f"{i + 1}. {item}" if numbered else f"- {item}" for i, item in enumerate(items))


def _planned_body(rng: Random, writer: Writer, cited: list[str], plan: Plan) -> str:
    """A body made to `plan`, citing each id in `cited` at least once."""

    def between(bounds: tuple[int, int]) -> int:
        return rng.randint(*bounds)

    # Blocks are paragraphs (lists of sentences, filled in below) or finished text.
    blocks: list[list[str] | str] = [[writer.sentence() for _ in range(between(plan.lead))]]
    for heading in rng.sample(HEADINGS, between(plan.sections)):
        blocks.append(f"{plan.heading} {heading}")
        parts = rng.sample(HEADINGS, between(plan.subsections)) if plan.subsections[1] else [""]
        for part in parts:
            if part:
                blocks.append(f"### {part}")
            for _ in range(between(plan.paragraphs)):
                blocks.append([writer.sentence() for _ in range(between(plan.sentences))])
    paragraphs = [i for i, block in enumerate(blocks) if isinstance(block, list)]

    # Lists, tables and quotes go after paragraphs other than the first.
    after: dict[int, list[str]] = {}
    places = paragraphs[1:] or paragraphs
    makers: list[tuple[int, Callable[[], str]]] = [
        (between(plan.lists), lambda: _list(rng, writer)),
        (between(plan.tables), lambda: _table(rng)),
        (between(plan.quotes), lambda: "> " + writer.sentence())]
    for count, make in makers:
        for _ in range(count):
            after.setdefault(rng.choice(places), []).append(make())

    # Each sentence gets at most one of: a link, a footnote reference, a citation, so that
    # no two bracketed constructs touch (`[@a][^1]` would read as a reference link).
    sentences = [(i, j) for i in paragraphs for j in range(len(blocks[i]))]
    markers = _markers(rng, cited, between(plan.recite))
    links, notes = between(plan.links), between(plan.footnotes)
    wanted = len(markers) + links + notes
    if wanted > len(sentences):  # a short body cites more than once per sentence instead
        sentences = sentences * (wanted // len(sentences) + 1)
    chosen = rng.sample(sentences, wanted)
    cite_at, link_at = chosen[:len(markers)], chosen[len(markers):len(markers) + links]
    note_at = sorted(set(chosen[len(markers) + links:]) - set(cite_at) - set(link_at))
    for i, j in link_at:
        block = blocks[i]
        assert isinstance(block, list)
        block[j] = _with_link(rng, block[j])
    definitions = []
    for number, (i, j) in enumerate(note_at, 1):
        block = blocks[i]
        assert isinstance(block, list)
        block[j] = f"{block[j][:-1]}[^{number}]."
        definitions.append(f"[^{number}]: {rng.choice(FOOTNOTES)}")
    for marker, (i, j) in zip(markers, cite_at, strict=True):
        block = blocks[i]
        assert isinstance(block, list)
        block[j] = f"{block[j][:-1]} {marker}."

    text: list[str] = []
    for i, block in enumerate(blocks):
        text.append(" ".join(block) if isinstance(block, list) else block)
        text.extend(after.get(i, []))
    text.extend(definitions)
    return "\n\n".join(text) + "\n"


def _numbered(body: str, registry: dict[str, dict[str, str]]) -> str:
    """Replace citation markers by bracketed numbers and append a numbered Sources list."""
    numbers: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        parts = []
        for item in match.group(1).split(";"):
            source_id, _, locator = item.strip()[1:].partition(",")
            number = numbers.setdefault(source_id.strip(), len(numbers) + 1)
            parts.append(f"{number}, {locator.strip()}" if locator else str(number))
        return "[" + "; ".join(parts) + "]"

    text = _CITATION.sub(replace, body)
    lines = ["", "### Sources", ""]
    for source_id, number in numbers.items():
        s = registry[source_id]
        lines.append(f"{number}. [{s['title']}]({s['url']}), {s['publisher']}, {s['published']}")
    return text + "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(target: Path, count: int, seed: int = 1, *, briefgen_src: Path = REPO,
             shape: str = "default") -> None:
    """Write the three corpora of `count` briefings under `target` (replacing earlier ones).

    `briefgen_src` holds themes/default, whose briefing template the briefgen site gets a
    copy of (in templates/, so the benchmark can edit it). Besides the corpora, `spare/`
    holds one more briefing for each tool that no corpus has, for the benchmark of adding
    a briefing; the manifest says where it goes.
    """
    kind = SHAPES[shape]
    target = Path(target)
    rng = Random(seed)
    writer = Writer(rng, Lexicon(rng) if kind.lexicon else None)
    for name in ("briefgen", "pelican", "hugo", "spare"):
        shutil.rmtree(target / name, ignore_errors=True)
    manifest = target / "manifest.json"
    if manifest.exists():
        manifest.unlink()

    days = _briefing_days(rng, count)
    sources = _sources(rng, writer, min(days[0], FIRST_DAY) if days else FIRST_DAY, kind.sources)
    registry = {s["id"]: s for s in sources}
    published = [s["published"] for s in sources]
    deck = TopicDeck(rng) if kind.many_topics else None

    bg = target / "briefgen"
    pel = target / "pelican"
    hugo = target / "hugo"
    for folder in (bg / "content" / "sources", bg / "templates", pel / "content",
                   hugo / "content" / "posts"):
        folder.mkdir(parents=True, exist_ok=True)
    _write_configs(bg, pel, hugo, Path(briefgen_src), language="zh" if kind.cjk else "en")

    # briefgen reads a registry file of at most 400,000 characters: a large registry is
    # written as one file per publisher, as a curator would keep it.
    if len(sources) <= SOURCE_COUNT:
        registries = {"registry": sources}
    else:
        registries = {key: [s for s in sources if s["publisher"] == name]
                      for name, key, _ in PUBLISHERS}
    for file_name, part in registries.items():
        with open(bg / "content" / "sources" / f"{file_name}.yaml", "w", encoding="utf-8") as out:
            out.write(f"# {len(part)} generated sources (benchmarks/generate.py, seed {seed}).\n")
            for s in part:
                out.write(f"- id: {s['id']}\n  title: {_q(s['title'])}\n"
                          f"  publisher: {_q(s['publisher'])}\n"
                          f"  url: {s['url']}\n  published: {s['published']}\n")

    def briefing(rng: Random, writer: Writer, day: dt.date,
                 topics: list[str] | None = None) -> tuple[str, str, list[str], list[str], str, str]:
        """Title, slug, topics, cited ids, summary and body of a new briefing dated `day`."""
        while True:
            title = writer.title()
            slug = slugify(title)
            if slug not in titles and len(slug) <= 80:
                break
        titles.add(slug)
        if topics is None:
            topics = deck.deal() if deck else rng.sample(TOPICS, rng.randint(1, 3))
        # Sources published on or before the day, preferring recent ones.
        end = max(bisect_right(published, day.isoformat()), kind.cited[1])
        pool = sources[max(0, end - kind.pool):end]
        cited = [s["id"] for s in rng.sample(pool, rng.randint(*kind.cited))]
        summary = writer.sentence()
        body = (_planned_body(rng, writer, cited, kind.plan) if kind.plan
                else _body(rng, writer, cited))
        if kind.cjk:  # the slug stays the English title's, as a curator's `slug:` would
            title, summary, body = hanzi_text(title), hanzi_text(summary), hanzi_text(body)
        return title, slug, topics, cited, summary, body

    titles: set[str] = set()
    entries = []
    previous_day = None
    minutes: list[int] = []
    topic_names: set[str] = set()
    for day in days:
        if day != previous_day:  # distinct, ordered times within a day
            minutes = sorted(rng.sample(range(6 * 60, 21 * 60), 3))
            previous_day = day
        minute = minutes.pop(0)
        when = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
        title, slug, topics, cited, summary, body = briefing(rng, writer, day)
        topic_names.update(topics)
        files = _write_briefing(target, when, title, slug, topics, cited, summary, body,
                                registry)
        entries.append({tool: str(path.relative_to(target)) for tool, path in files.items()})

    # The spare briefing comes from a Random of its own, so that the corpora are the same
    # as before it existed; it is dated in the middle of the archive, before 06:00, a time
    # no other briefing has.
    spare_rng = Random(f"spare {seed}")
    day = days[len(days) // 2]
    when = dt.datetime.combine(day, dt.time(5, 30))
    spare_topics = spare_rng.sample(TOPICS, 2)
    if deck:
        spare_topics.append(spare_rng.choice(deck.names))
    spare_writer = Writer(spare_rng, Lexicon(spare_rng) if kind.lexicon else None)
    title, slug, topics, cited, summary, body = briefing(spare_rng, spare_writer, day, spare_topics)
    files = _write_briefing(target / "spare", when, title, slug, topics, cited, summary,
                            body, registry)
    spare = {tool: {"from": str(path.relative_to(target)),
                    "to": str(path.relative_to(target / "spare"))} for tool, path in files.items()}

    info: dict[str, object] = {"count": count, "seed": seed, "sources": len(sources),
                               "briefings": entries}
    if shape != "default":  # the default manifest stays as it was
        info.update(shape=shape, topics=len(topic_names))
    info["spare"] = spare
    manifest.write_text(json.dumps(info, indent=0) + "\n", encoding="utf-8")


def _write_briefing(root: Path, when: dt.datetime, title: str, slug: str, topics: list[str],
                    cited: list[str], summary: str, body: str,
                    registry: dict[str, dict[str, str]]) -> dict[str, Path]:
    """Write one briefing into the three corpora under `root`; returns each tool's file."""
    numbered = _numbered(body, registry)
    name = f"{when:%Y-%m-%d}-{slug}.md"
    bg_file = root / "briefgen" / "content" / "briefings" / f"{when:%Y}" / name
    pel_file = root / "pelican" / "content" / name
    hugo_file = root / "hugo" / "content" / "posts" / name
    for path in (bg_file, pel_file, hugo_file):
        path.parent.mkdir(parents=True, exist_ok=True)
    bg_file.write_text(
        "---\n"
        f"title: {_q(title)}\n"
        + (f"slug: {slug}\n" if not title.isascii() else "") +
        f"date: {when:%Y-%m-%dT%H:%M:%S}+00:00\n"
        f"topics: [{', '.join(_q(t) for t in topics)}]\n"
        f"summary: {_q(summary)}\n"
        "sources:\n" + "".join(f"  - {c}\n" for c in cited) +
        "---\n" + body, encoding="utf-8")
    pel_file.write_text(
        f"Title: {title}\nDate: {when:%Y-%m-%d %H:%M}\nTags: {', '.join(topics)}\n"
        f"Slug: {slug}\nSummary: {summary}\n\n" + numbered, encoding="utf-8")
    hugo_file.write_text(
        "---\n"
        f"title: {_q(title)}\n"
        f"date: {when:%Y-%m-%dT%H:%M:%S}Z\n"
        f"tags: [{', '.join(_q(t) for t in topics)}]\n"
        f"slug: {slug}\n"
        f"summary: {_q(summary)}\n"
        "---\n" + numbered, encoding="utf-8")
    return {"briefgen": bg_file, "pelican": pel_file, "hugo": hugo_file}


def _write_configs(bg: Path, pel: Path, hugo: Path, briefgen_src: Path, language: str = "en") -> None:
    # briefgen: config, and a copy of the default theme's briefing template to edit.
    (bg / "briefgen.toml").write_text(
        '[site]\ntitle = "World Briefing"\nbase_url = "https://example.org/"\n'
        f'language = "{language}"\n'
        'timezone = "UTC"\ndescription = "Generated benchmark corpus"\ntheme = "default"\n\n'
        '[build]\noutput = "output"\nper_page = 20\n', encoding="utf-8")
    template = briefgen_src / "themes" / "default" / "templates" / "briefing.html"
    if not template.is_file():
        spec = importlib.util.find_spec("briefgen")
        if spec and spec.origin:
            template = Path(spec.origin).parent / "themes/default/templates/briefing.html"
    shutil.copyfile(template, bg / "templates" / "briefing.html")

    # Pelican: comparable pages (articles at /YYYY/MM/DD/slug/, paginated index and
    # tags, date archives, Atom feeds), footnotes and tables through "extra".
    (pel / "pelicanconf.py").write_text('''\
import os

AUTHOR = "World Briefing"
SITENAME = "World Briefing"
SITEURL = "https://example.org"
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_CATEGORY = "Briefings"
USE_FOLDER_AS_CATEGORY = False
DEFAULT_PAGINATION = 20
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)
_HERE = os.path.dirname(os.path.abspath(__file__))
THEME = os.path.join(_HERE, "theme") if os.path.isdir(os.path.join(_HERE, "theme")) else "notmyidea"

ARTICLE_URL = "{date:%Y}/{date:%m}/{date:%d}/{slug}/"
ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{date:%d}/{slug}/index.html"
YEAR_ARCHIVE_SAVE_AS = "{date:%Y}/index.html"
MONTH_ARCHIVE_SAVE_AS = "{date:%Y}/{date:%m}/index.html"
DAY_ARCHIVE_SAVE_AS = "{date:%Y}/{date:%m}/{date:%d}/index.html"
TAG_URL = "topics/{slug}/"
TAG_SAVE_AS = "topics/{slug}/index.html"
TAGS_SAVE_AS = "topics/index.html"

FEED_ALL_ATOM = "feed.xml"
TAG_FEED_ATOM = "topics/{slug}/feed.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.codehilite": {"css_class": "highlight"},
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
        "markdown.extensions.smarty": {},
        "markdown.extensions.toc": {},
        "markdown.extensions.sane_lists": {},
    },
    "output_format": "html5",
}

CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
''', encoding="utf-8")
    pelican = importlib.util.find_spec("pelican")
    if pelican and pelican.origin:
        notmyidea = Path(pelican.origin).parent / "themes" / "notmyidea"
        if notmyidea.is_dir():
            shutil.copytree(notmyidea, pel / "theme")

    # Hugo: config and a minimal layout comparable to briefgen's page kinds, in the
    # template layout of Hugo >= 0.146 (with the older _default/ names, Hugo 0.168
    # rendered term pages with the taxonomy template).
    (hugo / "hugo.toml").write_text('''\
baseURL = "https://example.org/"
locale = "en"
title = "World Briefing"
disableKinds = ["section"]

[pagination]
pagerSize = 20

[permalinks.page]
posts = "/:year/:month/:day/:slug/"

[taxonomies]
tag = "tags"

[markup.goldmark.extensions]
footnote = true
table = true
typographer = true
''', encoding="utf-8")
    layouts = {
        "baseof.html": '''\
<!DOCTYPE html>
<html lang="{{ site.Language.Locale }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if not .IsHome }}{{ .Title }} | {{ end }}{{ site.Title }}</title>
<link rel="canonical" href="{{ .Permalink }}">
{{ with .OutputFormats.Get "rss" -}}
<link rel="alternate" type="application/rss+xml" href="{{ .Permalink }}">
{{- end }}
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ site.Title }}</a>
<nav><a href="{{ "/tags/" | relURL }}">Topics</a></nav></header>
<main>{{ block "main" . }}{{ end }}</main>
<footer><p>{{ site.Title }}</p></footer>
</body>
</html>
''',
        "page.html": '''\
{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">
{{- .Date.Format "2 January 2006" }}</time></p>
{{ with .GetTerms "tags" }}<ul class="topics">
{{ range . }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}
</ul>{{ end }}
{{ .Content }}
<nav>
{{ with .NextInSection }}<a rel="prev" href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .PrevInSection }}<a rel="next" href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
</nav>
</article>
{{ end }}
''',
        "home.html": '''\
{{ define "main" }}
{{ $pager := .Paginate (where site.RegularPages "Type" "posts") }}
{{ partial "items.html" $pager.Pages }}
{{ partial "pager.html" $pager }}
{{ end }}
''',
        "list.html": '''\
{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ $pager := .Paginate .Pages }}
{{ partial "items.html" $pager.Pages }}
{{ partial "pager.html" $pager }}
{{ end }}
''',
        "taxonomy.html": '''\
{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>
{{ range .Data.Terms.Alphabetical -}}
<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }}</a> ({{ .Count }})</li>
{{ end }}
</ul>
{{ end }}
''',
        "term.html": '''\
{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ $pager := .Paginate .Pages }}
{{ partial "items.html" $pager.Pages }}
{{ partial "pager.html" $pager }}
{{ end }}
''',
        "_partials/items.html": '''\
<ol class="items">
{{ range . }}<li><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time>
<p>{{ .Summary }}</p></li>
{{ end }}
</ol>
''',
        "_partials/pager.html": '''\
<nav class="pagination">
{{ with .Prev }}<a rel="prev" href="{{ .URL }}">Newer</a>{{ end }}
<span>Page {{ .PageNumber }} of {{ .TotalPages }}</span>
{{ with .Next }}<a rel="next" href="{{ .URL }}">Older</a>{{ end }}
</nav>
''',
    }
    for name, text in layouts.items():
        path = hugo / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shape", default="default", choices=list(SHAPES),
                        help="; ".join(f"{s.name}: {s.about}" for s in SHAPES.values()))
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    start = time.perf_counter()
    generate(args.target, args.count, args.seed, shape=args.shape)
    print(f"generated {args.count} {args.shape} briefings x 3 corpora in {args.target} "
          f"in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
