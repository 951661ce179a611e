"""What is not article text: calls to action, page furniture, bylines, captions.

A line of pasted text, or a paragraph trafilatura kept, is judged on its own
words; the passes in `text` and `extract` decide what the verdicts mean in
context (a call to action opens a box of clutter; an end marker closes the article).
"""

from __future__ import annotations

import re
from enum import Enum

from briefgen.content.scripts import word_count


class Kind(Enum):
    PROSE = "prose"  # a sentence or more: article text where the article is
    TITLE = "title"  # a short line that could be a headline or a subheading
    UI = "ui"  # buttons, menus, labels
    META = "meta"  # byline, date, time stamp, caption, credit
    CTA = "cta"  # newsletter, donation, subscription, cookie notice: opens a box of clutter
    PAYWALL = "paywall"  # "subscribe to continue reading" and the like
    END = "end"  # "Read more", "Related", "Comments": the article is over


# Punctuation and bullets around a control's label: dashes, guillemets, arrows.
_DECORATION = " .!?:;|\u00b7\u2022-\u2013\u2014\u203a\u00bb>\u00ab<*#"


def _phrases(text: str) -> frozenset[str]:
    """Comma-separated phrases from a block of text."""
    return frozenset(p.strip() for p in text.split(",") if p.strip())


def normalise(line: str) -> str:
    """One line with its spaces collapsed; non-breaking and zero-width spaces are spaces."""
    line = line.replace("\u200b", "").replace("\ufeff", "")
    return " ".join(line.split())


_WORD = re.compile(r"[^\W_]+(?:[-'\u2019.][^\W_]+)*\.?", re.UNICODE)


def words(line: str) -> list[str]:
    return _WORD.findall(line)




# Whole lines that are controls or labels, compared lowercased without end punctuation.
_UI_LINES = _phrases("""
once, monthly, annual, yearly, one-time, continue, share, tweet, email, e-mail, print, copy link, copy,
comment, comments, menu, search, close, open, accept, reject, accept all, reject all, settings, manage,
preferences, manage preferences, home, news, world, business, sport, sports, politics, opinion, culture,
weather, video, videos, audio, listen, play, pause, next, previous, back, top, back to top, login, log in,
sign in, sign up, register, subscribe, subscribe now, donate, donate now, support, support us, more, less,
show more, load more, advertisement, advert, ad, sponsored, sponsored content, skip to content,
skip to main content, live, latest, latest updates, follow, facebook, twitter, x, whatsapp, telegram,
linkedin, reddit, instagram, paiment methods, payment methods, remind me later, not now, no thanks,
maybe later, got it, ok, okay, save, saved, bookmark, listen to this article,
teilen, drucken, kommentieren, anzeige, werbung, startseite, suche, anmelden, abonnieren, weiterlesen,
merken, schließen, schliessen, zustimmen, ablehnen, einstellungen, alle akzeptieren,
поделиться, реклама, подписаться, войти, поиск, главная, закрыть, принять, отклонить, комментировать,
читать далее, ещё, еще,
partager, s'abonner, abonnez-vous, publicité, accepter, refuser, paramétrer, se connecter, rechercher
""")

# Section names in a site's menu; a line made only of these (or of controls) is navigation.
_SECTIONS = _phrases("""
lifestyle, travel, science, technology, tech, health, money, markets, economy, environment, climate,
entertainment, showbiz, tv, film, music, books, arts, food, puzzles, games, crosswords, jobs, property,
announcements, notices, obituaries, what's, on, local, regional, national, international, uk, us, europe,
essays, reviews, podcast, podcasts, newsletters, magazine, features, analysis, investigations, traffic,
lokales, politik, wirtschaft, kultur, wissen, panorama, meinung, region,
новости, политика, экономика, общество, город, спорт, культура, происшествия,
région, sports, loisirs, faits, divers, économie, société, monde
""")

_END = re.compile(
    r"^(read more|more on this( story| topic)?|more from .{0,40}|more stories|related( articles| stories"
    r"| coverage| content| topics)?|see also|you (may|might) also like|recommended( for you)?"
    r"|most (read|popular)|trending( now)?|comments?( \(\d+\))?|\d+ comments?"
    r"|join the (conversation|discussion)"
    r"|leave a (comment|reply)|a message from .{0,60}|dear reader[s]?|tags?|topics|filed under"
    r"|mehr zum thema|mehr aus .{0,40}|weitere artikel|das könnte sie auch interessieren|kommentare"
    r"|leserkommentare|читайте также|по теме|комментарии|другие новости|похожие материалы"
    r"|discussion about this (post|article|story)|à lire aussi|les plus lus|sur le même sujet"
    r"|commentaires)[:.!]?$",
    re.IGNORECASE,
)

_PAYWALL = re.compile(
    r"(subscribe to (continue|keep) reading|to continue reading|continue reading (with|for)"
    r"|(this|the rest of this) (article|story) is (for|available (only )?to) (subscribers|members)"
    r"|subscribers only|already a subscriber|for subscribers|unlock (this|the full) (article|story)"
    r"|start your (free )?trial|nur für abonnenten|weiterlesen mit|jetzt (weiter)?lesen mit"
    r"|чтобы (продолжить|прочитать)|только для подписчиков|оформите подписку)",
    re.IGNORECASE,
)

# Calls to action and notices. On a short line any of these marks it; on a long line
# only together with words addressed to the reader (see `kind`).
_CTA = re.compile(
    r"(\bsign(ing)? up\b|\bsubscri(be|ber|ption)|newsletter|\bdonat(e|ion)|\bsupport (us|our)\b"
    r"|^support the\b|\bbecome a (member|supporter|subscriber)|\bcookies? (settings|policy|preferences)"
    r"|privacy (policy|notice|settings)"
    r"|terms (of (use|service)|and conditions)|all rights reserved|©|\bfollow us\b|\bdownload (our|the) app"
    r"|\bshare (this|on)\b|click here|\bread more\b|^related:|^see also:|^(also )?read:|^watch:|^listen:"
    r"|advertisement|\bpaiment\b|payment methods|remind me later|not ready to|\bunsubscribe"
    r"|jetzt (abonnieren|spenden|unterstützen)|unterstützen sie|datenschutz|\bspenden\b"
    r"|^lesen sie auch|^mehr zum thema:|подпис(ывайтесь|аться|ка)|поддержите|пожертвова|рассылк"
    r"|^читайте также:"
    r"|политик[аи] конфиденциальности|мы используем cookie|файлы cookie|unlimited access|cancel any ?time"
    r"|free trial|got a (story|tip)|email us at|contact our newsdesk|privacy notice|reader-supported"
    r"|(enter|type) your e-?mail|^(à )?lire aussi|abonnez-vous|nos partenaires|politique de confidentialité)",
    re.IGNORECASE,
)

# A cookie notice speaks to the reader ("We use cookies", "Wir verwenden Cookies"); a baker's don't.
_COOKIES = re.compile(r"\bcookies?\b", re.IGNORECASE)

# Page footers and legal lines, whatever their length.
_FOOTER = re.compile(r"(©|\(c\) \d{4}|all rights reserved|alle rechte vorbehalten|все права защищены)",
                     re.IGNORECASE)

# "Jane Doe writes about ...", "John Smith is a fellow at ...": an author's note after the article.
_AUTHOR_NOTE = re.compile(
    r"^[A-Z][\w.'-]+( [A-Z][\w.'-]+){1,3} (is an?|is the|writes|covers|reports|was formerly) ", re.UNICODE
)

_TO_READER = re.compile(
    r"\b(you|your|you're|us|our|we|my|sie|ihr|ihre|uns|unser|вы|вас|ваш|ваша|нас|наш|наша"
    r"|vous|votre|vos|nous|notre|nos)\b", re.IGNORECASE
)

_CAPTION = re.compile(
    r"((photo(graph)?|image|picture|foto|bild|фото|иллюстрация)( credit)?\s*[:/©]|\bcredits?:|getty images"
    r"|/\s*(reuters|ap|afp|epa|dpa|tass|ria novosti|getty|shutterstock)\s*$|^image caption|^\(?photo by"
    r"|^caption:)",
    re.IGNORECASE,
)

_MONTHS = (
    r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|oct(ober)?"
    r"|nov(ember)?|dec(ember)?|januar|februar|märz|mai|juni|juli|oktober|dezember"
    r"|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
)
_DATELINE = re.compile(
    rf"^((updated|published|posted|last updated|aktualisiert|veröffentlicht|stand|обновлено|опубликовано)"
    rf"\b.{{0,60}}|((mon|tues|wednes|thurs|fri|satur|sun)day,?\s*)?(\d{{1,2}}\.?\s*)?({_MONTHS})\.?\s*\d{{0,2}}"
    rf"(,|\.)?\s*\d{{4}}.{{0,30}}|\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}}.{{0,30}}|\d{{1,2}}:\d{{2}}(\s*(am|pm))?"
    rf"(\s*[a-z]{{2,5}})?|\d+ (min(ute)?s?|hours?|days?) ago|\d+ min(ute)?s? read|\d+ мин.{{0,10}})$",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(by|von|par|text:|автор:?|written by|reporting by|editing by)\s+\S", re.IGNORECASE)
# A weather box in the page header: "Kessel Valley: 4°C, light rain".
_WEATHER = re.compile(r"-?\d+\s*°\s*[CF]\b")
# A sentence's end, with the full stop, marks and brackets of Chinese and Japanese (U+3002,
# the full-width ! ? : ; and closing bracket, U+300D and U+300F).
_TERMINAL = re.compile("[.!?\u2026:;\u3002\uff01\uff1f\uff1a\uff1b]"
                       "[\"'\u201d\u2019\u00bb)\\]\u300d\u300f\uff09]*$|[\"\u201d\u00bb\u300d\u300f]$")
_SMALL_WORDS = _phrases("a, an, and, as, at, but, by, for, from, in, into, of, on, or, the, to, with, via")


def is_navigation(line: str) -> bool:
    """A menu: items split by bars or dots, or words that are all section names or controls."""
    if len(re.findall(r"\s[|\u00b7\u2022]\s", line)) >= 2:
        return True
    items = [w.lower().strip(".,:") for w in line.split()]
    return bool(items) and all(w in _UI_LINES or w in _SECTIONS for w in items)


def is_byline_or_dated(line: str) -> bool:
    """A byline, or a date with its year: what separates a standfirst from the article."""
    text = normalise(line)
    return bool(_BYLINE.match(text) or (_DATELINE.match(text) and re.search(r"\b\d{4}\b", text)))


def is_author_note(line: str) -> bool:
    return bool(_AUTHOR_NOTE.match(normalise(line)))


def is_call_to_action(line: str) -> bool:
    """Speaks of newsletters, subscriptions, cookies... at any length (used inside a box)."""
    return bool(_CTA.search(line) or _FOOTER.search(line))


def is_title_case(line: str) -> bool:
    """Most words capitalised, as English headlines are ("Russia Must Restrain Itself")."""
    significant = [w for w in words(line) if w.lower() not in _SMALL_WORDS]
    if len(significant) < 2:
        return False
    capital = sum(1 for w in significant if w[0].isupper() or w[0].isdigit())
    return capital / len(significant) >= 0.75


def kind(line: str) -> Kind:
    """What one line of text is, judged on its own."""
    text = normalise(line)
    bare = text.lower().strip(_DECORATION)
    count = word_count(text)
    # A marker is a short label ("Read more", "A Message from The Moscow Times:"), not a
    # sentence that happens to begin like one ("More from the ministry was published.").
    if (_END.match(bare) or _END.match(text)) and (count <= 3 or (count <= 10 and not text.endswith("."))):
        return Kind.END
    if bare in _UI_LINES or count == 0:
        return Kind.UI
    if _FOOTER.search(text):
        return Kind.CTA
    if _PAYWALL.search(text):
        return Kind.PAYWALL
    if _CTA.search(text) and (count < 12 or _TO_READER.search(text)):
        return Kind.CTA
    if _COOKIES.search(text) and _TO_READER.search(text):
        return Kind.CTA
    if _CAPTION.search(text):
        return Kind.META
    if count <= 12 and (_DATELINE.match(text) or _BYLINE.match(text) or _WEATHER.search(text)):
        return Kind.META
    if _TERMINAL.search(text) and count >= 2 and not (count <= 25 and is_title_case(text)):
        return Kind.PROSE
    if count >= 16:
        return Kind.PROSE
    if is_navigation(text):
        return Kind.UI
    return Kind.TITLE
