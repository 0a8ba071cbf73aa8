#!/usr/bin/env python3
"""docs/conf.md -> docs/handler.conf.5: the small subset of Markdown the
docs use (headings, paragraphs, indented and fenced code, lists, tables).
Run: python3 tests/tools/md2man.py docs/conf.md > docs/handler.conf.5
(tests/shell/manpages.sh checks the committed page is up to date)."""
import re
import sys


def esc(t):
    t = esc_code(t)
    t = re.sub(r'`([^`]*)`', lambda m: '\\fB' + m.group(1) + '\\fR', t)
    return re.sub(r'\*\*([^*]*)\*\*', r'\\fB\1\\fR', t)


def esc_code(t):
    """A code line is shown as typed: no `code` or **bold** markup."""
    t = t.replace('\\', '\\e').replace('-', '\\-')
    if t.startswith('.') or t.startswith("'"):
        t = '\\&' + t
    return t


def indented_block(lines, i):
    """The indented code block starting at lines[i]: its lines (indent
    removed; blank lines inside it kept) and the index after it. A blank
    line belongs to the block only if an indented line follows it, so a
    multi-line conf or script stays one .nf block."""
    block = []
    while i < len(lines):
        if lines[i].startswith('    '):
            block.append(lines[i][4:])
            i += 1
            continue
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j > i and j < len(lines) and lines[j].startswith('    '):
            block += [''] * (j - i)
            i = j
            continue
        break
    return block, i


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
    i = 0
    while i < len(lines):
        ln = lines[i]
        i += 1
        if ln.startswith('```'):
            out.append('.fi' if code else '.nf')
            code = not code
            continue
        if code:
            out.append(esc_code(ln))
            continue
        if ln.startswith('    '):
            block, i = indented_block(lines, i - 1)
            out += ['.nf'] + [esc_code(b) for b in block] + ['.fi']
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
