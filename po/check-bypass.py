#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Finds user-facing text that bypasses gettext in vaultctl's C sources.

A string literal passed as the format (or text) of printf, fprintf, dprintf,
fputs, puts or snprintf must be wrapped in _() when it reads as prose (two
words in a row, once conversions are removed) or is a heading ("Options:").  The message helpers
(log_err, ... see po/Makevars-like XGETTEXT_KEYWORDS in userspace/Makefile)
translate their format themselves and are not checked here.  Output that is
not for people (JSON, KTAP, dm tables, the answer protocol, paths) is
allowed by a comment containing "no-i18n" on the call's line or on one of
the two lines before it, by "no-i18n-begin" ... "no-i18n-end" around a
block, or by "no-i18n-file" in the first 20 lines of a file.

Usage: check-bypass.py FILE.c...   Prints FILE:LINE: TEXT for each bypass;
exit status 1 when there is one.
"""
import re
import sys

CALLS = {'printf': 0, 'fprintf': 1, 'dprintf': 1, 'fputs': 0, 'puts': 0,
         'snprintf': 2, 'vfprintf': 1}
CALL_RE = re.compile(r'\b(' + '|'.join(CALLS) + r')\s*\(')
PRI_RE = re.compile(r'\s*(PRI[a-zA-Z0-9]+)')
LIT_RE = re.compile(r'\s*"((?:[^"\\]|\\.)*)"')
CONV_RE = re.compile(r'%[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcsp%]')
# a heading such as "Options:" on a line of its own
LABEL_RE = re.compile(r"(?:^|\s)[A-Z][a-z]+:\s*$")
PROSE_RE = re.compile(r"[A-Za-z][A-Za-z']+[ ,:;]+['\"]?[A-Za-z][A-Za-z']+")


def strip_comments(src):
    """Blanks out comments, keeping newlines (line numbers) and strings."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith('/*', i):
            j = src.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(''.join(ch if ch == '\n' else ' ' for ch in src[i:j]))
            i = j
        elif src.startswith('//', i):
            j = src.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == '\\' else 1
            out.append(src[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def skip_args(code, pos, count):
    """Position after COUNT top-level commas from POS (inside a call)."""
    depth = 0
    i = pos
    while count and i < len(code):
        c = code[i]
        if c == '"':
            i += 1
            while code[i] != '"':
                i += 2 if code[i] == '\\' else 1
        elif c in '([{':
            depth += 1
        elif c in ')]}':
            if depth == 0:
                return None
            depth -= 1
        elif c == ',' and depth == 0:
            count -= 1
        i += 1
    return i


# The message helpers (xgettext keywords, userspace/Makefile's I18N_KEYWORDS)
# and the index of their format: xgettext extracts a format only when it is
# a literal (a "c ? \"a\" : \"b\"" gives it the first string alone).
HELPERS = {'log_err': 0, 'log_warn': 0, 'log_verbose': 0, 'l2_err': 1, 'ferr': 3,
           'token_why': 1, 'set_error': 0, 'fail': 1, 'tab_fail': 2, 'bad_value': 2,
           'FAIL': 0, 'BAD': 0}
HELPER_RE = re.compile(r'(?<![.>\w])(' + '|'.join(HELPERS) + r')\s*\(')


def check_helpers(path, code):
    """Helper calls whose format is an expression holding string literals."""
    bad = []
    for m in HELPER_RE.finditer(code):
        if re.match(r'\s*(?:static\s+)?(?:int|void)\b|\s*#\s*define\b', code[code.rfind('\n', 0, m.start()) + 1:m.start()]):
            continue	# the definition
        start = skip_args(code, m.end(), HELPERS[m.group(1)])
        if start is None:
            continue
        end = skip_args(code, start, 1)
        if end is None:
            end = code.find(')', start)
        arg = code[start:end].strip()
        if arg.startswith('"') or arg.startswith('ngettext') or '"' not in arg:
            continue
        if LIT_RE.match(arg) and re.fullmatch(r'(?:\s*(?:"(?:[^"\\]|\\.)*"|PRI\w+))+\s*,?', arg):
            continue
        line = code.count('\n', 0, m.start()) + 1
        bad.append('%s:%d: %s: the format is not one literal (xgettext misses it): %s'
                   % (path, line, m.group(1), ' '.join(arg.split())[:60]))
    return bad


def check(path):
    raw = open(path, encoding='utf-8').read()
    code = strip_comments(raw)
    lines = raw.split('\n')
    bad = []
    bad += check_helpers(path, code)
    if any('no-i18n-file' in ln for ln in lines[:20]):
        return bad
    allowed = set()
    inside = False
    for no, ln in enumerate(lines, 1):
        if 'no-i18n-begin' in ln:
            inside = True
        if inside:
            allowed.add(no)
        if 'no-i18n-end' in ln:
            inside = False
    for m in CALL_RE.finditer(code):
        start = skip_args(code, m.end(), CALLS[m.group(1)])
        if start is None:
            continue
        text = ''
        pos = start
        while True:
            lm = LIT_RE.match(code, pos)
            if not lm:
                pm = PRI_RE.match(code, pos)
                if not pm or not text:
                    break
                text += '%' + pm.group(1)[3:]
                pos = pm.end()
                continue
            text += lm.group(1)
            pos = lm.end()
        if not text:
            continue	# _("..."), a variable, ngettext(...)
        prose = CONV_RE.sub(' ', text.replace('\\n', ' ').replace('\\t', ' '))
        if not PROSE_RE.search(prose) and not LABEL_RE.search(prose):
            continue
        line = code.count('\n', 0, m.start()) + 1
        window = '\n'.join(lines[max(0, line - 3):line + code.count('\n', m.start(), pos)])
        if re.search(r'no-i18n(?!-end)', window) or line in allowed:
            continue
        bad.append('%s:%d: %s' % (path, line, text[:70]))
    return bad


def main():
    bad = []
    for p in sys.argv[1:]:
        bad += check(p)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
