#!/bin/sh
# Regenerates the demo customer's speech: four short utterances in Japanese,
# 8 kHz mono 16-bit PCM WAV (the call format, see package audio), embedded
# into the demo line with //go:embed. Run from anywhere; the WAVs are
# committed, so this is needed only to change what the customer says.
#
# Needs espeak-ng (voice "ja") and sox. espeak-ng's Japanese voice reads
# kanji as "Chinese letter" in English, so the text is written in kana.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() { # say NAME TEXT
	espeak-ng -v ja -s 150 -p 55 -w "$tmp/$1.raw.wav" "$2"
	# Telephone band, 8 kHz mono 16-bit, silence trimmed, peak at -3 dBFS;
	# -D: no dither, so the output is the same on every run.
	sox -D "$tmp/$1.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$1.wav" \
		silence 1 0.05 0.5% reverse silence 1 0.05 0.5% reverse \
		sinc 300-3400 norm -3
}

say 1-henkou 'もしもし、せんじつ ちゅうもんした しょうひんの はいたつびを へんこう したいのですが。'
say 2-bangou 'ちゅうもんばんごうは、ええと、いち に さん よん ごう です。'
say 3-kibou 'らいしゅうの すいようびの ごごに とどけて もらえますか。'
say 4-orei 'はい、それで おねがいします。ありがとうございました。'
