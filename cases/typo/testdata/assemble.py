#!/usr/bin/env python3
"""Assembles labelled.tsv and negative.txt from the npm packages named in
SOURCES.md. Run from this directory with the unpacked packages beside it:

    d=$(mktemp -d) && (cd $d && for p in mailcheck@1.1.1 email-providers@2.27.0 \
        free-email-domains@1.12.6 @zootools/email-spell-checker@1.12.0 \
        email-misspelled@4.4.0 email-typo-fixer@1.1.0; do npm pack $p; done && \
        for f in *.tgz; do mkdir -p ${f%.tgz} && tar xzf $f -C ${f%.tgz}; done)
    python3 assemble.py $d

The hand-written parts (the typo registrations picked from the lists, the
README examples and the Japanese typos) are in this file; the generated
part is deterministic.
"""
import json, os, re, sys

pkgs = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))

def known_domains():
    out = set()
    for line in open(os.path.join(here, '..', 'domains.txt')):
        line = line.split('#', 1)[0].split()
        line = line[0] if line else ''
        if line:
            out.add(line)
    return out

known = known_domains()
free = set(json.load(open(os.path.join(pkgs, 'free-email-domains-1.12.6/package/domains.json'))))
providers = set(json.load(open(os.path.join(pkgs, 'email-providers-2.27.0/package/all.json'))))
real = free | providers

pairs = []  # (typed address, intended domain, source)
def add(src, typed, intended):
    if '@' not in typed:
        typed = 'user@' + typed
    pairs.append((typed, intended, src))

# mailcheck 1.1.1 spec/mailcheckSpec.js (MIT): its typo cases whose intended
# domain is a mail provider (its made-up company domains left out); the
# SLD-only and TLD-only cases of findClosestDomain get a ".com".
spec = open(os.path.join(pkgs, 'mailcheck-1.1.1/package/spec/mailcheckSpec.js')).read()
for typed, want in [
        ('test@gmail.co', 'gmail.com'), ('test@gmail.con', 'gmail.com'),
        ('test@gnail.con', 'gmail.com'), ('test@GNAIL.con', 'gmail.com'),
        ('test@#gmail.com', 'gmail.com'), ('test@comcast.nry', 'comcast.net'),
        ('test@homail.con', 'hotmail.com'), ('test@hotmail.co', 'hotmail.com'),
        ('test@yajoo.com', 'yahoo.com'), ('test@yahooo.cmo', 'yahoo.com')]:
    assert typed in spec, typed
    add('mailcheck', typed, want)
for typed, want in [('gmaik.com', 'gmail.com'), ('gmsn.com', 'msn.com')]:
    assert "'" + typed + "'" in spec, typed
    add('mailcheck', typed, want)
for sld, want in [('hotmial', 'hotmail'), ('tahoo', 'yahoo'), ('livr', 'live'), ('outllok', 'outlook')]:
    assert "'" + sld + "'" in spec, sld
    add('mailcheck', sld + '.com', want + '.com')

# README examples: @zootools/email-spell-checker 1.12.0, email-misspelled
# 4.4.0, email-typo-fixer 1.1.0 (all MIT).
def readme(pkg, src, typed, want):
    text = open(os.path.join(pkgs, pkg, 'package/README.md')).read()
    assert typed in text, (pkg, typed)
    add(src, typed, want)
readme('zootools-email-spell-checker-1.12.0', 'readme-zootools', 'jorge@gmaik.co', 'gmail.com')
for t in ['user@otmail.com', 'user@hotmial.com', 'user@hotmia.com']:
    readme('email-misspelled-4.4.0', 'readme-email-misspelled', t, 'hotmail.com')
readme('email-typo-fixer-1.1.0', 'readme-email-typo-fixer', 'user@gmial.com', 'gmail.com')
readme('email-typo-fixer-1.1.0', 'readme-email-typo-fixer', 'user@outl00k.com', 'outlook.com')
readme('email-typo-fixer-1.1.0', 'readme-email-typo-fixer', 'user@gmaillll.com', 'gmail.com')

# Typo registrations found in the real-domain lists: every list entry within
# two edits of a big provider was read by hand; these are slips on the
# provider's name rather than a brand of their own, so they are typos, not
# negatives (a person who types them meant the provider).
squats = {
    'gamil.com': 'gmail.com', 'gmai.com': 'gmail.com', 'gmail.co': 'gmail.com',
    'gmail.om': 'gmail.com', 'gmal.com': 'gmail.com', 'gmial.com': 'gmail.com',
    'h0tmaii.com': 'hotmail.com', 'hitmail.com': 'hotmail.com',
    'homail.com': 'hotmail.com', 'hotmai.com': 'hotmail.com',
    'hotmail.cm': 'hotmail.com', 'hotmail.co': 'hotmail.com',
    'hotmail.con': 'hotmail.com', 'hotmails.com': 'hotmail.com',
    'hotmial.com': 'hotmail.com', 'outiook.com': 'outlook.com',
    'zoutlook.com': 'outlook.com', 'sbcglbal.net': 'sbcglobal.net',
    'vahoo.com': 'yahoo.com', 'yaho.com': 'yahoo.com', 'yahoo.co': 'yahoo.com',
    'yahoo.om': 'yahoo.com', 'icousd.com': 'icloud.com', 'icloulb.com': 'icloud.com',
}
for t, want in sorted(squats.items()):
    assert t in real, t
    add('lists-typo-registrations', t, want)

# Ours: Japanese carrier and webmail typos, written for notme from the slips
# Japanese users make: a neighbouring key, romaji spelled the Japanese way
# (dokomo), ".jo"/".jpp" endings, a dropped "ne.", "co.jp" for "com".
ja = """
docomo.ne.jo docomo.ne.jp
docomo.ne.jpp docomo.ne.jp
docomo.ne.pj docomo.ne.jp
docomo.ne.ip docomo.ne.jp
docomo.ne.j docomo.ne.jp
docomo.nejp docomo.ne.jp
docomo.me.jp docomo.ne.jp
docomo.be.jp docomo.ne.jp
docmo.ne.jp docomo.ne.jp
docom.ne.jp docomo.ne.jp
docono.ne.jp docomo.ne.jp
dokomo.ne.jp docomo.ne.jp
docoomo.ne.jp docomo.ne.jp
dcomo.ne.jp docomo.ne.jp
doccomo.ne.jp docomo.ne.jp
docomo.jp docomo.ne.jp
docomo.co.jp docomo.ne.jp
docomo.ne.jp.com docomo.ne.jp
ezweb.ne.jo ezweb.ne.jp
ezweb.ne.jpp ezweb.ne.jp
ezweb.nejp ezweb.ne.jp
ezwed.ne.jp ezweb.ne.jp
ezewb.ne.jp ezweb.ne.jp
ezwb.ne.jp ezweb.ne.jp
ezweb.me.jp ezweb.ne.jp
ezwev.ne.jp ezweb.ne.jp
ezeweb.ne.jp ezweb.ne.jp
ezweb.jp ezweb.ne.jp
ezweb.co.jp ezweb.ne.jp
au.con au.com
au.cpm au.com
au.comm au.com
au.vom au.com
softbank.ne.jo softbank.ne.jp
softbank.ne.jpp softbank.ne.jp
softbnak.ne.jp softbank.ne.jp
sofbank.ne.jp softbank.ne.jp
softbank.me.jp softbank.ne.jp
softbamk.ne.jp softbank.ne.jp
sotfbank.ne.jp softbank.ne.jp
softbanl.ne.jp softbank.ne.jp
softbank.nejp softbank.ne.jp
softbank.jp softbank.ne.jp
softbank.co.jp softbank.ne.jp
i.softbank.jo i.softbank.jp
i.sofbank.jp i.softbank.jp
i.softbnak.jp i.softbank.jp
i.softbank.ne.jp i.softbank.jp
i.softbank.jpp i.softbank.jp
ymobile.ne.jo ymobile.ne.jp
ymoblie.ne.jp ymobile.ne.jp
ymobil.ne.jp ymobile.ne.jp
y-mobile.ne.jp ymobile.ne.jp
ymobile.me.jp ymobile.ne.jp
ymobile.ne.jpp ymobile.ne.jp
ynobile.ne.jp ymobile.ne.jp
yahoo.co.jo yahoo.co.jp
yahoo.co.jpp yahoo.co.jp
yahoo.co.pj yahoo.co.jp
yahoo.cojp yahoo.co.jp
yaho.co.jp yahoo.co.jp
yahooo.co.jp yahoo.co.jp
yahho.co.jp yahoo.co.jp
yhaoo.co.jp yahoo.co.jp
yahoo.vo.jp yahoo.co.jp
yahoo.c.jp yahoo.co.jp
tahoo.co.jp yahoo.co.jp
yahoo.co.ip yahoo.co.jp
outlook.jo outlook.jp
outlok.jp outlook.jp
outlool.jp outlook.jp
outllok.jp outlook.jp
hotmail.co.jo hotmail.co.jp
hotmial.co.jp hotmail.co.jp
icloud.co icloud.com
icloud.con icloud.com
icloud.cm icloud.com
iclod.com icloud.com
icoud.com icloud.com
iclould.com icloud.com
icluod.com icloud.com
icliud.com icloud.com
gmail.co.jp gmail.com
gmail.jp gmail.com
gmail.ne.jp gmail.com
gmai.co.jp gmail.com
nifty.con nifty.com
nifry.com nifty.com
biglobe.ne.jo biglobe.ne.jp
bigloube.ne.jp biglobe.ne.jp
ocn.ne.jo ocn.ne.jp
so-net.ne.jo so-net.ne.jp
sonet.ne.jp so-net.ne.jp
plala.or.jo plala.or.jp
ybb.ne.jo ybb.ne.jp
rakumail.jo rakumail.jp
rakumai.jp rakumail.jp
uqmobile.jo uqmobile.jp
uqmoblie.jp uqmobile.jp
"""
for line in ja.strip().splitlines():
    t, want = line.split()
    assert want in known, want
    add('ours-ja', t, want)

# Generated (ours): one keyboard slip on each of the most used domains, all
# of them: two neighbouring letters swapped, a letter dropped, a letter
# doubled, a letter replaced by the key to its right, and the common
# endings. A slip that produces a known domain or a domain in the
# real-domain lists is left out (the lists decide what is real), and so is
# one that two domains share.
rows = ["1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm"]
right = {}
for row in rows:
    for i, c in enumerate(row[:-1]):
        right[c] = row[i + 1]
top = """gmail.com yahoo.com hotmail.com outlook.com aol.com icloud.com live.com
msn.com comcast.net googlemail.com hotmail.co.uk yahoo.co.uk protonmail.com
yandex.ru mail.ru rocketmail.com sbcglobal.net verizon.net bellsouth.net
docomo.ne.jp ezweb.ne.jp softbank.ne.jp yahoo.co.jp""".split()
endings = {'com': ['con', 'cpm', 'cm', 'co', 'vom', 'xom', 'comm', 'ocm', 'cim'],
           'net': ['nte', 'ner', 'ne', 'bet', 'nett', 'met'],
           'ru': ['ry', 'rru', 'tu'], 'uk': ['ik', 'ul'], 'jp': ['jo', 'jpp', 'op']}
gen = {}
for dom in top:
    label, rest = dom.split('.', 1)
    variants = set()
    for i in range(len(label) - 1):
        if label[i] != label[i + 1]:
            variants.add(label[:i] + label[i + 1] + label[i] + label[i + 2:] + '.' + rest)
    for i in range(len(label)):
        variants.add(label[:i] + label[i + 1:] + '.' + rest)
        variants.add(label[:i] + label[i] + label[i:] + '.' + rest)
        if label[i] in right:
            variants.add(label[:i] + right[label[i]] + label[i + 1:] + '.' + rest)
    head, last = dom.rsplit('.', 1)
    for e in endings.get(last, []):
        variants.add(head + '.' + e)
    for v in variants:
        if v == dom or v in known or v in real or v.startswith('.'):
            continue
        gen.setdefault(v, set()).add(dom)
for v in sorted(gen):
    if len(gen[v]) == 1:
        add('ours-generated', v, next(iter(gen[v])))

# One pair per typed domain: the first source to name it keeps it.
seen, out = set(), []
for typed, want, src in pairs:
    d = typed.rsplit('@', 1)[1].lower()
    if d in seen:
        continue
    seen.add(d)
    out.append((typed, want, src))
with open(os.path.join(here, 'labelled.tsv'), 'w') as f:
    f.write('# typed address\tintended domain\tsource (SOURCES.md); generated by assemble.py\n')
    for row in out:
        f.write('\t'.join(row) + '\n')

# Negatives: every domain of both real-domain lists, less the known domains
# (never corrected by construction, so they would measure nothing) and the
# typo registrations above.
neg = sorted(real - known - set(squats) - seen)
with open(os.path.join(here, 'negative.txt'), 'w') as f:
    f.write('# real mail domains that must not be corrected; generated by assemble.py\n')
    for d in neg:
        f.write(d + '\n')
print(len(out), 'labelled;', len(neg), 'negative', file=sys.stderr)
from collections import Counter
print(Counter(s for _, _, s in out), file=sys.stderr)
