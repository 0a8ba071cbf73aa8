#!/usr/bin/env python3
"""docs/conf.md -> docs/handler.conf.5: the small subset of Markdown the
docs use (headings, paragraphs, indented and fenced code, lists, tables).
Run: python3 tests/tools/md2man.py docs/conf.md > docs/handler.conf.5
(tests/shell/manpages.sh checks the committed page is up to date)."""
import re
import sys


def esc(t):
    t = t.replace('\\', '\\e').replace('-', '\\-')
    t = re.sub(r'`([^`]*)`', lambda m: '\\fB' + m.group(1) + '\\fR', t)
    t = re.sub(r'\*\*([^*]*)\*\*', r'\\fB\1\\fR', t)
    if t.startswith('.') or t.startswith("'"):
        t = '\\&' + t
    return t


def main(path):
    out = ['.TH HANDLER.CONF 5 "2026" "handler" "File Formats"',
           '.SH NAME',
           'handler.conf \\- configuration of handler(1)',
           '.SH SYNOPSIS',
           '.B handler \\-f /etc/handler/handler.conf',
           '.I protocol',
           '.SH DESCRIPTION']
    lines = open(path).read().splitlines()[1:]
    code = False
    for ln in lines:
        if ln.startswith('```'):
            out.append('.fi' if code else '.nf')
            code = not code
            continue
        if code:
            out.append(esc(ln))
            continue
        if ln.startswith('    '):
            out += ['.nf', esc(ln[4:]), '.fi']
            continue
        m = re.match(r'(#+) (.*)', ln)
        if m:
            out.append(('.SH ' if len(m.group(1)) <= 2 else '.SS ') +
                       esc(m.group(2).replace('`', '')).upper()
                       if len(m.group(1)) <= 2 else
                       '.SS ' + esc(m.group(2).replace('`', '')))
            continue
        if ln.startswith('|'):
            if re.match(r'\|[-| ]+\|$', ln):
                continue
            cells = [c.strip() for c in re.split(r'(?<!\\)\|', ln)[1:-1]]
            out += ['.TP', esc(cells[0].replace('\\|', '|')),
                    esc(' \u2014 '.join(c.replace('\\|', '|') for c in cells[1:]))]
            continue
        if re.match(r'[-*] ', ln):
            out += ['.IP \\(bu 2', esc(ln[2:])]
            continue
        if not ln.strip():
            out.append('.PP')
            continue
        out.append(esc(ln.strip()))
    out += ['.SH SEE ALSO', '.BR handler (1),', '.BR handler\\-client (1);',
            'docs/conf.md, the same text in Markdown']
    # Collapse paragraph marks that follow a heading or another mark.
    res = []
    for o in out:
        if o == '.PP' and res and (res[-1].startswith('.S') or
                                   res[-1] in ('.PP', '.fi')):
            if res[-1] == '.fi':
                res.append(o)
            continue
        res.append(o)
    print('\n'.join(res).replace('\u2014', '\\(em'))


main(sys.argv[1])
