/* briefgen search: reads the static index under search/ (format described in
   briefgen/site/search_files.py) and shows results on the search page. No dependencies.

   Words are folded and split as briefgen/search/text.py does: NFKD, the combining marks
   of accents and vowel points dropped (DIACRITICS), lower case, composed again (NFC) where a
   script's own marks are kept, a few letters made plain (FOLDED); runs of letters, digits
   and the marks kept, of any script; a run of Chinese or Japanese characters as the pairs of
   its neighbouring characters. */
(function () {
  "use strict";

  var FORMAT = 9;
  var PAGE_SIZE = 10;
  var PHRASE_CHECKS = 30; // candidates read at a time to confirm a quoted phrase
  var MAX_PHRASE_CHECKS = 150; // read while none holds it, before saying so
  var K1 = 1.2, B = 0.75;
  var PREFIX = 3, PREFIX_MARK = "*"; // see shardOf
  var RUN_END = 0xffff; // after a run's characters in a document's words (RUN_END in phrases.py)
  var TITLE = 1, TOPIC = 2, SOURCE = 4;
  // A word of a text as shown, whose folding is one word of the index: combining marks and
  // soft hyphens stand inside it.
  var SHOWN_WORD = /[\p{L}\p{N}\p{M}\u00ad]+/gu;
  // The combining marks folding drops: those of DIACRITIC_SPANS in text.py.
  var DIACRITICS = new RegExp("(?=[\\p{Mn}\\p{Me}])[\\u0300-\\u036f\\u0483-\\u0489\\u0591-\\u05c7\\u0610-\\u061a" +
    "\\u064b-\\u065f\\u0670\\u06d6-\\u06ed\\u0711\\u0730-\\u074a\\u07a6-\\u07b0\\u07eb-\\u07f3\\u07fd" +
    "\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\u2cef-\\u2cf1\\u2d7f\\u2de0-\\u2dff\\ufb1e" +
    "\\ufe00-\\ufe0f\\ufe20-\\ufe2f\\u{e0100}-\\u{e01ef}]", "gu");
  // Where a mark folding keeps may stand: _MARK_BEARING in text.py.
  var MARK_BEARING = /[\u0800-\u1fff\u3000-\u{10ffff}]/u;
  // _FOLDED_LETTERS in text.py.
  var FOLDED = { "æ": "ae", "ð": "d", "đ": "d", "ħ": "h", "ı": "i", "ł": "l", "ø": "o", "œ": "oe",
                 "ß": "ss", "þ": "th", "ŧ": "t", "ς": "σ", "\u00ad": "" };
  var FOLDED_LETTER = /[æðđħıłøœßþŧς\u00ad]/g;
  // Scripts written without spaces between words: the ranges of UNSPACED_CHARS in
  // briefgen/search/text.py (Thai, Lao, Myanmar, Khmer, then Chinese and Japanese).
  var CJK_CHARS = "\\u0e00-\\u0eff\\u1000-\\u109f\\u1780-\\u17ff" +
    "\\u3005-\\u3007\\u3040-\\u309f\\u30a0-\\u30ff\\u31f0-\\u31ff\\u3400-\\u4dbf" +
    "\\u4e00-\\u9fff\\uf900-\\ufaff\\u{20000}-\\u{3ffff}";
  var CJK = new RegExp("[" + CJK_CHARS + "]", "u");
  // A run of unspaced letters, or a word of others; each goes on over the marks of its kind,
  // and a mark begins none (_unspaced_run_or_word in text.py).
  var RUN_LETTER = "(?:(?=[\\p{L}\\p{N}])[" + CJK_CHARS + "])";
  var RUN_MARK = "(?:(?=\\p{M})[" + CJK_CHARS + "])";
  var OTHER_LETTER = "(?:(?![" + CJK_CHARS + "])[\\p{L}\\p{N}])";
  var OTHER_MARK = "(?:(?![" + CJK_CHARS + "])\\p{M})";
  var RUN_OR_WORD = new RegExp("(" + RUN_LETTER + "(?:" + RUN_LETTER + "|" + RUN_MARK + ")*)|(" +
    OTHER_LETTER + "(?:" + OTHER_LETTER + "|" + OTHER_MARK + ")*)", "gu");

  // The folding, sharding and decoding rules, for tests that compare them with briefgen's.
  window.briefgenSearch = { fold: fold, words: words, shardOf: shardOf, postingsOf: postingsOf, wordHash: wordHash,
                           phraseUnits: function (text) { return phraseUnits(tokens(text)); } };

  var form = document.querySelector("form[data-search-index]");
  if (!form || !window.fetch || !String.prototype.normalize) return;
  var root = form.getAttribute("data-search-index");
  var base = form.getAttribute("data-search-base") || "/";
  var input = form.querySelector("input[name=q]");
  var selects = {
    topic: form.querySelector("select[name=topic]"),
    publisher: form.querySelector("select[name=publisher]"),
    year: form.querySelector("select[name=year]")
  };
  var status = document.getElementById("search-status");
  // Screen readers hear the status from #search-announce once typing pauses (a theme without
  // it has #search-status itself be the live region, told every time).
  var announcer = document.getElementById("search-announce");
  var list = document.getElementById("search-results");
  var nojs = document.querySelector("[data-search-nojs]");
  // The page's strings in the site's language (search.html fills them from the theme's catalog).
  var TEXT = {
    result: { one: "{n} result", other: "{n} results" },
    result_or_more: { one: "{n} or more results", other: "{n} or more results" },
    found: "{count} for {what}.", found_first: "{count} for {what}, the first {shown} shown.",
    none: "No results for {what}.",
    none_among: "No results for {what} among the {n} best matches of its words.", loading: "Loading the search index…",
    failed: "The search index could not be loaded. Try again later.",
    from_disk: "Search works when the site is served over HTTP (briefgen serve, or any web server), not opened from disk.", topics: "Topics",
    topic: "topic", publisher: "publisher", year: "year", quoted: "“{text}”", listed: "{first}, {next}"
  };
  try {
    var given = JSON.parse(form.getAttribute("data-search-text") || "{}");
    Object.keys(given).forEach(function (key) {
      if (typeof given[key] === "string" ? given[key] : Object.keys(given[key]).length) TEXT[key] = given[key];
    });
  } catch (e) { /* the English strings above */ }
  var plural = null;
  try {
    plural = new Intl.PluralRules(document.documentElement.lang || "en");
  } catch (e) {  // no Intl, or a language tag it does not know: English forms
    try { plural = new Intl.PluralRules("en"); } catch (e2) { plural = null; }
  }

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
  }

  function count(forms, n) {
    var category = plural ? plural.select(n) : (n === 1 ? "one" : "other");
    return say(forms[category] || forms.other, { n: n });
  }

  form.hidden = false;
  if (nojs) nojs.hidden = true;

  function fold(text) {
    var folded = text.normalize("NFKD").replace(DIACRITICS, "").toLowerCase();
    if (MARK_BEARING.test(folded)) folded = folded.normalize("NFC");
    return folded.replace(FOLDED_LETTER, function (letter) { return FOLDED[letter]; });
  }

  /* A run of unspaced letters as the index lists it (unspaced_terms in text.py): one character alone,
     else each pair of neighbours. */
  function cjkTerms(run) {
    var chars = Array.from(run);
    if (chars.length === 1) return [run];
    var out = [];
    for (var i = 0; i + 1 < chars.length; i++) out.push(chars[i] + chars[i + 1]);
    return out;
  }

  /* A text's runs of unspaced letters and other words, in order: { run: ... } or { word: ... }. */
  function tokens(text) {
    var out = [], found, folded = fold(text);
    RUN_OR_WORD.lastIndex = 0;
    while ((found = RUN_OR_WORD.exec(folded)) !== null) {
      out.push(found[1] ? { run: found[1] } : { word: found[2] });
    }
    return out;
  }

  /* The terms of tokens as the index lists them: a run's pairs (cjkTerms), a word itself. */
  function termsOf(found) {
    var out = [];
    found.forEach(function (token) {
      if (token.run) out.push.apply(out, cjkTerms(token.run));
      else out.push(token.word);
    });
    return out;
  }

  function words(text) {
    return termsOf(tokens(text));
  }

  /* 32-bit FNV-1a over code points, as briefgen/search/text.py computes it. */
  function fnv1a(chars) {
    var h = 0x811c9dc5;
    for (var i = 0; i < chars.length; i++) {
      h = Math.imul(h ^ chars[i].codePointAt(0), 0x01000193) >>> 0;
    }
    return h;
  }

  /* A word's shard, keyed by its first four letters: every word it begins is there; a word of
     three letters finds the words it begins in its prefix term, "dal*", in its own shard. */
  function shardOf(term, shards) {
    return fnv1a(Array.from(term).slice(0, 4)) % shards;
  }

  /* A folded word's 16-bit hash, as briefgen/search/phrases.py writes them; never 0. */
  function wordHash(word) {
    var h = fnv1a(Array.from(word));
    return ((h >>> 16) ^ h) & 0xffff || 1;
  }

  // ---- fetching, each file at most once ------------------------------------

  var files = {};
  function getJSON(path) {
    if (!files[path]) {
      files[path] = fetch(root + path).then(function (response) {
        if (!response.ok) throw new Error(path + ": " + response.status);
        return response.json();
      });
      files[path].catch(function () { delete files[path]; });
    }
    return files[path];
  }
  var meta = null;
  function versioned(path) {
    return path + "?v=" + meta.version;
  }

  // ---- the query -------------------------------------------------------------

  /* "a b" -> words a, b; quoted parts are also phrases whose words must be adjacent. */
  function parseQuery(text) {
    var phrases = [];
    var quoted = /"([^"]*)"?/g, found;
    while ((found = quoted.exec(text)) !== null) {
      var phrase = tokens(found[1]);
      if (termsOf(phrase).length > 1) phrases.push(phrase);
    }
    var all = words(text.replace(/"/g, " "));
    var unique = all.filter(function (w, i) { return all.indexOf(w) === i; });
    return { words: unique, phrases: phrases };
  }

  /* A document word matches a query word equal to it, or of three or more letters that start it. */
  function matches(token, word) {
    return token === word || (word.length >= 3 && token.lastIndexOf(word, 0) === 0);
  }

  /* LEB128 varints from base64 (see briefgen/search/encoding.py). */
  function varints(base64) {
    var bytes = atob(base64), out = [], value = 0, shift = 0;
    for (var i = 0; i < bytes.length; i++) {
      var byte = bytes.charCodeAt(i);
      value += (byte & 127) * Math.pow(2, shift);
      if (byte & 128) shift += 7;
      else { out.push(value); value = 0; shift = 0; }
    }
    return out;
  }

  /* An entry of a term shard: [id, weight, id, weight, ...]; weight -1 when unweighted. */
  function postingsOf(entry) {
    var kind = entry.charAt(0), out = [], id = 0, i;
    if (kind === "b") {
      var bits = atob(entry.slice(1));
      for (i = 0; i < bits.length; i++) {
        var byte = bits.charCodeAt(i);
        for (var bit = 0; byte; bit++, byte >>= 1) if (byte & 1) out.push(i * 8 + bit, -1);
      }
      return out;
    }
    var values = varints(entry.slice(1));
    var step = kind === "w" ? 2 : 1;
    for (i = 0; i < values.length; i += step) {
      id += values[i];
      out.push(id, step === 2 ? values[i + 1] : -1);
    }
    return out;
  }

  /* Whether a term of a word's shard counts for the word: the word itself, a word it begins
     (when of four letters or more), or its prefix term (when of three). */
  function finds(term, word, letters) {
    if (term === word) return true;
    if (letters > PREFIX) return term.lastIndexOf(word, 0) === 0;
    return letters === PREFIX && term === word + PREFIX_MARK;
  }

  /* doc id -> best BM25 score of this word's matching terms. */
  function scoreWord(word) {
    var letters = Array.from(word).length;
    return getJSON(versioned("terms/" + shardOf(word, meta.shards) + ".json")).then(function (shard) {
      var scores = new Map();
      Object.keys(shard).forEach(function (term) {
        if (!finds(term, word, letters)) return;
        var postings = postingsOf(shard[term]);
        var exact = term === word ? 1 : 0.6;
        var df = postings.length / 2;
        var idf = Math.log(1 + (meta.documents - df + 0.5) / (df + 0.5));
        for (var i = 0; i < postings.length; i += 2) {
          var w = postings[i + 1], score;
          if (w < 0) {
            // A term in many documents is listed without weights; it weighs little.
            score = idf * exact;
          } else {
            var tf = Math.floor(w / 256), flags = w % 8;
            var length = Math.pow(2, ((w >> 3) & 31) / 2.5) - 1;
            var norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / (meta.average_length || 1)));
            var boost = 1 + (flags & TITLE ? 2 : 0) + (flags & TOPIC ? 1 : 0) + (flags & SOURCE ? 0.5 : 0);
            score = idf * norm * boost * exact;
          }
          var id = postings[i];
          if (!(scores.get(id) >= score)) scores.set(id, score);
        }
      });
      return scores;
    });
  }

  function filterIds(kind, value) {
    return getJSON(versioned("filters/" + kind + "/" + encodeURIComponent(value) + ".json"))
      .then(function (gaps) {
        var ids = new Set(), id = 0;
        gaps.forEach(function (gap) { id += gap; ids.add(id); });
        return ids;
      })
      .catch(function () { return new Set(); });
  }

  /* Ranked [id, score] pairs: every word matches, every filter holds; ties newest first. */
  function rank(query, filters) {
    var parts = query.words.map(scoreWord);
    var kinds = Object.keys(filters).filter(function (k) { return filters[k]; });
    var sets = kinds.map(function (k) { return filterIds(k, filters[k]); });
    return Promise.all([Promise.all(parts), Promise.all(sets)]).then(function (found) {
      var perWord = found[0], allowed = found[1];
      var total;
      if (perWord.length) {
        perWord.sort(function (a, b) { return a.size - b.size; });
        total = new Map(perWord[0]);
        perWord.slice(1).forEach(function (scores) {
          total.forEach(function (score, id) {
            if (scores.has(id)) total.set(id, score + scores.get(id));
            else total.delete(id);
          });
        });
      } else {
        total = new Map();
        allowed.sort(function (a, b) { return a.size - b.size; });
        if (allowed.length) allowed[0].forEach(function (id) { total.set(id, 0); });
      }
      allowed.forEach(function (ids) {
        total.forEach(function (_, id) { if (!ids.has(id)) total.delete(id); });
      });
      return Array.from(total).sort(function (a, b) {
        return Math.abs(b[1] - a[1]) > 1e-9 ? b[1] - a[1] : b[0] - a[0];
      });
    });
  }

  function loadDoc(id) {
    return getJSON(versioned("docs/" + id + ".json"));
  }

  /* For each place of a phrase, the unit a document has there (see briefgen/search/phrases.py):
     a word's hash; a run's characters as UTF-16 code units, each a place, then RUN_END when a
     word follows: so a run may begin or, at the end, stop inside one of the document's, and a
     phrase's word must be whole. */
  function phraseUnits(phrase) {
    var units = [];
    phrase.forEach(function (token, i) {
      if (token.run) {
        for (var c = 0; c < token.run.length; c++) units.push(token.run.charCodeAt(c));
        if (i < phrase.length - 1) units.push(RUN_END);
      } else {
        units.push(wordHash(token.word));
      }
    });
    return units;
  }

  /* For each place of a phrase, the units a document may have there: its own, and for the last
     word, while it is being typed, those of the terms it begins when of four letters or more
     (its shard lists them; a word of three matches itself alone). */
  function phraseHashes(phrase) {
    var places = phraseUnits(phrase).map(function (unit) { return new Set([unit]); });
    var last = phrase[phrase.length - 1];
    if (last.run || Array.from(last.word).length <= PREFIX) return Promise.resolve(places);
    return getJSON(versioned("terms/" + shardOf(last.word, meta.shards) + ".json")).then(function (shard) {
      var own = places[places.length - 1];
      Object.keys(shard).forEach(function (term) {
        if (matches(term, last.word)) own.add(wordHash(term));
      });
      return places;
    });
  }

  /* A document's words: base64 of little-endian 16-bit units (see briefgen/search/phrases.py). */
  function wordsOf(doc) {
    var bytes = atob(doc.words), out = new Uint16Array(bytes.length >> 1);
    for (var i = 0; i < out.length; i++) out[i] = bytes.charCodeAt(2 * i) | bytes.charCodeAt(2 * i + 1) << 8;
    return out;
  }

  function hasPhrase(sequence, places) {
    var last = places.length - 1;
    for (var i = 0; i + last < sequence.length; i++) {
      var j = 0;
      while (j <= last && places[j].has(sequence[i + j])) j++;
      if (j > last) return true;
    }
    return false;
  }

  /* The ids to show, best first: the ranked ones, or for a phrase the ranked ones that hold it,
     read PHRASE_CHECKS at a time while none of those read does, up to MAX_PHRASE_CHECKS.
     `exact` when every candidate was read; `checked`, how many were. */
  function matching(query, ranked) {
    var ids = ranked.map(function (pair) { return pair[0]; });
    if (!query.phrases.length) return Promise.resolve({ ids: ids, exact: true, checked: ids.length });
    var hashes = Promise.all(query.phrases.map(phraseHashes));
    function from(start) {
      var checked = ids.slice(start, start + PHRASE_CHECKS);
      return Promise.all([hashes, Promise.all(checked.map(loadDoc))]).then(function (found) {
        var places = found[0], docs = found[1], end = start + checked.length;
        var kept = checked.filter(function (id, i) {
          var sequence = wordsOf(docs[i]);
          return places.every(function (phrase) { return hasPhrase(sequence, phrase); });
        });
        if (!kept.length && end < ids.length && end < MAX_PHRASE_CHECKS) return from(end);
        return { ids: kept, exact: end >= ids.length, checked: end };
      });
    }
    return from(0);
  }

  // ---- showing results -------------------------------------------------------

  /* The stretches, [start, end) in the text, to mark in a run of letters (at `offset`) that holds
     CJK characters: its other words as a word is marked, and every place where a CJK word of
     the query (one character or a pair) stands. Folded character by character, so that each
     folded character is known to come from one of the text's. */
  function runMarks(run, offset, query) {
    var units = [], chars = [], at = offset;
    Array.from(run).forEach(function (original, unit) {
      units.push([at, at + original.length]);
      at += original.length;
      Array.from(fold(original)).forEach(function (c) { chars.push({ c: c, unit: unit, cjk: CJK.test(c) }); });
    });
    var marked = units.map(function () { return false; });
    function cover(first, last) {
      for (var u = chars[first].unit; u <= chars[last].unit; u++) marked[u] = true;
    }
    for (var p = 0, q; p < chars.length; p = q) {
      for (q = p; q < chars.length && chars[q].cjk === chars[p].cjk; q++);
      if (!chars[p].cjk) {
        var token = chars.slice(p, q).map(function (x) { return x.c; }).join("");
        if (query.words.some(function (w) { return matches(token, w); })) cover(p, q - 1);
        continue;
      }
      query.words.forEach(function (w) {
        var wanted = Array.from(w);
        if (!CJK.test(wanted[0])) return;
        for (var start = p; start + wanted.length <= q; start++) {
          var k = 0;
          while (k < wanted.length && chars[start + k].c === wanted[k]) k++;
          if (k === wanted.length) cover(start, start + k - 1);
        }
      });
    }
    var spans = [];
    for (var u = 0; u < units.length; u++) {
      if (!marked[u]) continue;
      var v = u;
      while (v + 1 < units.length && marked[v + 1]) v++;
      spans.push([units[u][0], units[v][1]]);
      u = v;
    }
    return spans;
  }

  /* Text with the words that match the query in <mark>. */
  function highlighted(text, query) {
    var fragment = document.createDocumentFragment();
    var at = 0, found;
    function mark(start, end) {
      fragment.appendChild(document.createTextNode(text.slice(at, start)));
      fragment.appendChild(element("mark", "", text.slice(start, end)));
      at = end;
    }
    var pattern = new RegExp(SHOWN_WORD.source, "gu");
    while ((found = pattern.exec(text)) !== null) {
      var token = fold(found[0]);
      if (CJK.test(token)) {
        runMarks(found[0], found.index, query).forEach(function (span) { mark(span[0], span[1]); });
      } else if (query.words.some(function (w) { return matches(token, w); })) {
        mark(found.index, found.index + found[0].length);
      }
    }
    fragment.appendChild(document.createTextNode(text.slice(at)));
    return fragment;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function resultItem(doc, query) {
    var item = element("li", "search-result");
    var heading = element("h2", "search-result__title");
    var link = element("a");
    link.href = base + doc.url;
    link.appendChild(highlighted(doc.title, query));
    heading.appendChild(link);
    item.appendChild(heading);
    if (doc.date) {
      var when = element("p", "search-result__date");
      var time = element("time", "", doc.date_display);
      time.setAttribute("datetime", doc.date);
      when.appendChild(time);
      item.appendChild(when);
    }
    if (doc.summary) {
      var paragraph = element("p", "search-result__snippet");
      paragraph.appendChild(highlighted(doc.summary, query));
      item.appendChild(paragraph);
    }
    if (doc.topics.length) {
      var topics = element("ul", "search-result__topics");
      topics.setAttribute("aria-label", TEXT.topics);
      doc.topics.forEach(function (topic) {
        var entry = element("li");
        var a = element("a", "", topic[1]);
        a.href = base + "topics/" + topic[0] + "/";
        entry.appendChild(a);
        topics.appendChild(entry);
      });
      item.appendChild(topics);
    }
    return item;
  }

  function describe(text, filters) {
    var parts = [];
    if (text) parts.push(say(TEXT.quoted, { text: text }));
    Object.keys(filters).forEach(function (kind) {
      var select = selects[kind];
      if (filters[kind] && select && select.selectedIndex > 0) {
        parts.push(TEXT[kind] + " " + select.options[select.selectedIndex].text);
      }
    });
    return parts.length
      ? parts.reduce(function (first, next) { return say(TEXT.listed, { first: first, next: next }); })
      : "";
  }

  // ---- running a search --------------------------------------------------------

  var sequence = 0;
  var typedAt = 0;
  var current = null; // what is shown: {query, what, ids, exact, checked, shown}
  var more = document.getElementById("search-more");

  function currentFilters() {
    return {
      topic: selects.topic ? selects.topic.value : "",
      publisher: selects.publisher ? selects.publisher.value : "",
      year: selects.year ? selects.year.value : ""
    };
  }

  function remember(text, filters) {
    var params = new URLSearchParams();
    if (text) params.set("q", text);
    Object.keys(filters).forEach(function (k) { if (filters[k]) params.set(k, filters[k]); });
    var query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
    return query;
  }

  // What the status says: shown at once, and told to screen readers when the reader stops
  // typing (ANNOUNCE_MS after the last key), not at every key, which would queue a message
  // for each prefix typed ("No results for “e”", "No results for “en”"...).
  var ANNOUNCE_MS = 900;
  var typing = false, telling = 0;
  function setStatus(text) {
    status.textContent = text;
    if (!announcer) return;
    clearTimeout(telling);
    if (typing) {
      telling = setTimeout(function () { announcer.textContent = status.textContent; }, ANNOUNCE_MS);
    } else {
      announcer.textContent = text;
    }
  }

  function announce(state) {
    var total = state.ids.length;
    var found = count(state.exact ? TEXT.result : TEXT.result_or_more, total);
    setStatus(total
      ? say(total > state.shown ? TEXT.found_first : TEXT.found, { count: found, what: state.what, shown: state.shown })
      : say(state.exact ? TEXT.none : TEXT.none_among, { what: state.what, n: state.checked }));
    if (more) more.hidden = state.shown >= total;
  }

  /* The next page of results, appended; returns the first new item. */
  function showPage(state, mine) {
    var ids = state.ids.slice(state.shown, state.shown + PAGE_SIZE);
    return Promise.all(ids.map(loadDoc)).then(function (docs) {
      if (mine !== sequence) return null;
      var items = docs.map(function (doc) { return resultItem(doc, state.query); });
      if (state.shown === 0) list.replaceChildren.apply(list, items);
      else items.forEach(function (item) { list.appendChild(item); });
      state.shown += items.length;
      announce(state);
      return items[0] || null;
    });
  }

  function search() {
    var mine = ++sequence;
    var text = input.value.trim();
    var filters = currentFilters();
    var query = parseQuery(text);
    var shown = remember(text, filters);
    var filtered = Object.keys(filters).some(function (k) { return filters[k]; });
    if (!query.words.length && !filtered) {
      current = null;
      list.replaceChildren();
      // A query of no words ("&", an emoji) finds nothing, and says so.
      setStatus(text ? say(TEXT.none, { what: describe(text, filters) }) : "");
      if (more) more.hidden = true;
      list.removeAttribute("data-search-ms");
      list.setAttribute("data-search-for", shown);
      return Promise.resolve();
    }
    form.setAttribute("aria-busy", "true");
    return rank(query, filters)
      .then(function (ranked) { return matching(query, ranked); })
      .then(function (found) {
        if (mine !== sequence) return null;
        current = { query: query, what: describe(text, filters), ids: found.ids, exact: found.exact,
                    checked: found.checked, shown: 0 };
        return showPage(current, mine);
      })
      .then(function () {
        if (mine !== sequence) return;
        list.setAttribute("data-search-ms", (performance.now() - typedAt).toFixed(1));
        list.setAttribute("data-search-for", shown);
      })
      .catch(function () {
        if (mine === sequence) setStatus(TEXT.failed);
      })
      .then(function () {
        if (mine === sequence) form.removeAttribute("aria-busy");
      });
  }

  if (more) {
    more.addEventListener("click", function () {
      if (!current) return;
      typing = false;
      showPage(current, sequence).then(function (first) {
        var link = first && first.querySelector("a");
        if (link) link.focus();
      });
    });
  }

  var timer = 0;
  function soon(event) {
    typing = !!event && event.type === "input";
    typedAt = performance.now();
    clearTimeout(timer);
    timer = setTimeout(search, 60);
  }

  function fillSelect(select, values, chosen) {
    if (!select) return;
    values.forEach(function (pair) {
      var option = element("option", "", pair[1]);
      option.value = pair[0];
      select.appendChild(option);
    });
    select.value = chosen || "";
    if (select.value !== (chosen || "")) select.value = "";
  }

  function start() {
    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    // Opened from disk, the browser lets no page read the index's files.
    if (location.protocol === "file:") {
      setStatus(TEXT.from_disk);
      return;
    }
    setStatus(TEXT.loading);
    getJSON("meta.json?t=" + Date.now()).then(function (loaded) {
      if (loaded.format !== FORMAT) throw new Error("unknown index format");
      meta = loaded;
      fillSelect(selects.topic, meta.topics, params.get("topic"));
      fillSelect(selects.publisher, meta.publishers, params.get("publisher"));
      fillSelect(selects.year, meta.years.map(function (y) { return [String(y), String(y)]; }),
                 params.get("year"));
      setStatus("");
      input.addEventListener("input", soon);
      Object.keys(selects).forEach(function (k) {
        if (selects[k]) selects[k].addEventListener("change", soon);
      });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        clearTimeout(timer);
        typing = false;
        typedAt = performance.now();
        search();
      });
      typedAt = performance.now();
      return search();
    }).catch(function () {
      setStatus(TEXT.failed);
    });
  }

  start();
})();
