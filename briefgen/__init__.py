"""briefgen: a static-site generator for curated news briefings."""

__version__ = "0.1.0"

# Part of every file's fingerprint and of the inputs a build in place must find as they were,
# beside the version: raised when the code comes to make other bytes of the same inputs, so
# that a build from an earlier cache renders every file again rather than keep the old ones
# (2: topics and publishers in A-to-Z order with accents folded; 3: citations wrapped onto a
# second line; 4: every spelling of a paragraph locator merged in the Sources list; 5: every
# address in a feed entry absolute, no screen-reader text in feeds; 6: the language written as
# a BCP 47 tag; 7: the passages of paragraph locators that list several numbers or ranges;
# 8: a month and its year in the language's order, headings begun with a capital; 9: the links
# back from footnotes titled in the site's language; 10: paragraphs named in it in the Sources list;
# 11: a date and its time joined as the language joins them; 12: a source's line punctuated as
# the language punctuates; 13: at most three digits of a second in a datetime attribute; 14: a
# text's root-relative addresses under the base path; 15: "par." locators merged with the other
# paragraphs).
OUTPUT_VERSION = 15
