#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks a translation against the glossary at the top of its .po file.

The glossary is the block of comment lines "#   ENGLISH   TRANSLATION"
(columns separated by two or more spaces; "a, b" lists synonyms, text in
parentheses is a note).  For every translated message whose msgid uses an
English term as words (option names such as --header, quoted text and
%-conversions do not count), the msgstr must use the term's translation.

Usage: check-glossary.py LANG.po   Prints FILE: MSGID -> missing TERM for each
miss; exit status 1 when there is one.
"""
import re
import subprocess
import sys


def entries(path):
    """(msgid, msgstr) pairs, from msgcat's unwrapped output."""
    out = subprocess.run(['msgcat', '--no-wrap', path], capture_output=True,
                         text=True, check=True).stdout
    res, cur, field = [], {}, None
    for line in out.split('\n') + ['']:
        if line.startswith('msgid '):
            if cur.get('msgid'):
                res.append(cur)
            cur, field = {'msgid': eval(line[6:])}, 'msgid'
        elif line.startswith('msgid_plural '):
            cur['msgid'] += '\n' + eval(line[13:])
            field = None
        elif line.startswith('msgstr'):
            cur['msgstr'] = cur.get('msgstr', '') + eval(line.split(' ', 1)[1])
            field = 'msgstr'
        elif line.startswith('"') and field:
            cur[field] += eval(line)
    if cur.get('msgid'):
        res.append(cur)
    return res


def glossary(path):
    terms = []
    inside = False
    for line in open(path, encoding='utf-8'):
        if not line.startswith('#'):
            break
        if 'glossary' in line.lower():
            inside = True
            continue
        m = re.match(r'#   (\S.*?)\s{2,}(\S.*?)\s*$', line)
        if inside and m:
            en, tr = m.group(1), re.sub(r'\s*\(.*', '', m.group(2))
            tr = tr.split(';')[0].strip()
            if '/' in en or '/' in tr or '(' in en or 'not checked' in m.group(2):
                continue	# pairs such as "suspend / resume"; notes say why
            terms.append(([t.strip() for t in en.split(',')], tr))
    # the longest first: "volume key" is checked before "volume"
    terms.sort(key=lambda t: -max(len(e) for e in t[0]))
    return terms


def plain_words(msgid):
    s = re.sub(r'--?[a-z0-9][a-z0-9-]*=?|\b[a-z0-9-]+=|device-mapper', ' ', msgid)	# options
    s = s.replace('clevis PIN', ' ')	# a clevis pin (tang, sss) is no PIN
    s = re.sub(r'\bPIN\b', 'pin_upper', s)
    s = re.sub(r'\b[A-Z][A-Z_]+\b', ' ', s)	# metavariables (DEVICE)
    s = re.sub(r"'[^']*'|\"[^\"]*\"|\\\"[^\"]*\\\"", ' ', s)	# quoted text
    s = re.sub(r'%[-+ #0-9.*$]*[a-zA-Z<>]+', ' ', s)
    return ' ' + re.sub(r'[^a-z0-9 ]+', ' ', s.lower()) + ' '


def main():
    path = sys.argv[1]
    terms = glossary(path)
    if not terms:
        print('%s: no glossary found' % path)
        return 1
    bad = 0
    for e in entries(path):
        if not e.get('msgstr'):
            continue
        words = plain_words(e['msgid'])
        for ens, tr in terms:
            keys = [' %s ' % ('pin_upper' if en == 'PIN' else en.lower()) for en in ens]
            if not any(k in words for k in keys):
                continue
            for k in keys:
                words = words.replace(k, ' ')
            if tr.lower() not in e['msgstr'].lower():
                print('%s: %r -> missing %r' % (path, e['msgid'][:70], tr))
                bad += 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
