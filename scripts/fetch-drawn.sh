#!/usr/bin/env bash
# fetch-drawn.sh ROWS_FILE
#
# Installs a corpus of open-licence DRAWN images (line art, flat / cel / comic shading; people,
# characters, animals and scenes) for the GAN discriminator and the "drawn-ness" metric, relative
# to the current directory:
#
#   data/style/<source>/            training style images
#   data/style-held-out/<source>/   held-out style images (never trained on)
#
# and appends one markdown table row per file, `| path | source | licence |`, to ROWS_FILE (paths
# are relative to data/, as in data/SOURCES.md).
#
# Sources (all pinned; each download's SHA-256 is checked; licences are read per file and checked):
#   art4apps  Debian pysiogame 4.20.01-1, res/images/art4apps/: 200x200 hand-drawn cartoon JPEGs
#             (ink outlines, flat colour) of people, jobs, actions, animals. Art4Apps (Smart4Kids),
#             CC-BY-SA-3.0; debian/copyright `Files: *` says GPL-3+.
#   wesnoth   Debian wesnoth-1.16-data 1:1.16.9-1, data/core/images/portraits/: inked and painted
#             character portraits, RGBA, 400-600 px. GPL-2+.
#   ceferino  Debian ceferino-data 0.97.8+svn37-2.2, ima/: comic-book illustrations, 640x480. GPL-2+.
#   scratch   Debian scratch 1.4.0.6~dfsg1-6.1, Media/: the drawn (not photographed) costumes and
#             backgrounds, cartoon sprites with alpha (GIFs converted to PNG) and flat scenes.
#             CC-BY-SA-3.0, (c) MIT.
#   gcompris  Debian gcompris-qt-data 3.1-2 (SVGs inside its Qt .rcc resource files): flat vector
#             characters, animals and landscape scenes, rendered to PNG (short side 512, on white).
#             Licence per file from debian/copyright (GPL-3 / GPL-3+ / CC-BY-SA-4.0 / public domain).
#   dicebear  npm @dicebear/<style>@9.4.3 + @dicebear/core@9.4.3: avatar composites of hand-drawn
#             parts, fixed seeds, rendered 512x512 on white. Design CC0-1.0 or CC-BY-4.0 per style.
# Tools: resvg-py 0.5.0 (MIT) renders SVG; Pillow 13.0.0 converts GIF to PNG; node >= 18 runs
# DiceBear. Both wheels go into a private venv in the cache (pinned, hash-checked, no index).
#
# Needs: apt-get (lists updated: `apt-get update`), dpkg-deb, npm + node, python3 3.11 with venv,
# sha256sum. Downloads (~243 MB) are kept in ${DRAWN_CACHE:-data/cache}; a re-run is offline.
# Output folders of these sources are rebuilt on every run (deterministic: same bytes each time).
set -euo pipefail

ROWS=${1:?usage: fetch-drawn.sh ROWS_FILE (markdown table rows are appended to it)}
CACHE=${DRAWN_CACHE:-data/cache}
mkdir -p "$CACHE" data/style data/style-held-out
touch "$ROWS"
ROWS=$(cd "$(dirname "$ROWS")" && pwd)/$(basename "$ROWS")

# --- pins: Debian 12 (bookworm) package=version|sha256 of the .deb ---
PYSIOGAME="pysiogame=4.20.01-1|6b22766dfd8ef3a046c2665fe2598ac8a1ecee3d331bda38accf53de65bc59bf"
WESNOTH="wesnoth-1.16-data=1:1.16.9-1|1012b964bd412a6770685e3324ae3b61e176caff7846192d1ee63d55cd621e26"
CEFERINO="ceferino-data=0.97.8+svn37-2.2|b92c98d69ecf9c551a4e053b01e17ced5b53297de5edac765f7577c76a02cc04"
SCRATCH="scratch=1.4.0.6~dfsg1-6.1|36c582eb93110f64f06c4e685c41e933ccba2fa68db12f79b10bfe840b21fc10"
GCOMPRIS="gcompris-qt-data=3.1-2|e9cf06ab2105529068df73085784e835d2ff03f870d2a8091f09125d40abac9f"
# npm name@version|sha256 of the registry tarball (npm pack)
DICEBEAR_VERSION=9.4.3
DICEBEAR_NPM=(
  "core|6ca7dae651c74ad547e548fbe7c41f49aaa377cf4617259277518389bf6b1a3d"
  "adventurer|6edeac04f94ef6177c946918dce012e530200dfcc274b4f954239e33ecbe590c"
  "big-ears|02fc47ff824b783142e6c85c2ba182ff535a7b40f65bfddfafa2b4f8d86eef50"
  "big-smile|8dbd7b96c9ceaf9dd7c280cdae4f0bb3e43ab2798b7bedbe355fbb3ce30e87bb"
  "croodles|3fba515bd5c0ba8568340425989918845a2ab13c3422e25d87d52f0e49b0a655"
  "lorelei|78cbba0a6c4d14e1af7c62ffa9a73bd98a8cda02e28690110e199348cd6a9c06"
  "micah|b948931f01e97147ce8cdcfc4dfdad5c029bcb1ad57420dc0b22bc0aeb1d3fa7"
  "notionists|edb28f4a346e50b9a810b754960cda924cfb2e05763cefddb4acb940dfb96445"
  "open-peeps|65b664ec00dc69c068051461f2b5bd97c8335af676e36c284e906a3017c23d4f"
  "toon-head|b9cd3b5def9fb2c37a9acba2e4b9bd00268b6eaff705d596756e8d921a4580c8"
)
# PyPI name==version|wheel file|sha256 (CPython 3.11, manylinux x86_64; no build, no index at install)
WHEELS=(
  "resvg-py==0.5.0|resvg_py-0.5.0-cp310-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl|84f2378ecc7a8e38b03429efaefc816daec1b1970114909a6f973393b297c91b"
  "pillow==13.0.0|pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl|a625df9a2a5597fa5e5266e01aefc82604bb85d291e3547981e863560d75da6c"
)
WHEEL_PLATFORM=(--python-version 3.11 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64)

# --- selections ---
# art4apps: whole categories (folders). Held out: `sport` (people in action not seen in training).
ART4APPS_TRAIN=(actions animals body jobs nature people transport)
ART4APPS_HELD_OUT=(sport)
# wesnoth: portraits by race folder; monsters/wolves/woses (animals, painterly creatures) are not used.
# Held out: two whole races (different characters and artists' subjects than training).
WESNOTH_TRAIN=(drakes dunefolk elves goblins humans nagas orcs saurians trolls undead)
WESNOTH_HELD_OUT=(dwarves merfolk)
# ceferino: the comic illustrations (`menu.jpg` is the drawn house scene; not the logo screens `fondo.jpg`,
# `pres_losers.jpg`, the text scroll `pres_lee.jpg` or the painted sky `fondos.jpg`).
CEFERINO_TRAIN=(final1.jpg final2.jpg final3.jpg final4.jpg final5.jpg pres_casa.jpg pres_rapto.jpg pres_vs.jpg menu.jpg)
CEFERINO_HELD_OUT=(final6.jpg pres_sentado.jpg)
# scratch: drawn items only (the media library also holds many photos: none of them is listed).
# One frame per animation where frames are near-identical. Held out: the school/city backgrounds,
# the royal family and two women, the knight/witch/wizard.
SCRATCH_TRAIN=(
  Backgrounds/Indoors/bedroom1.gif Backgrounds/Indoors/bedroom2.gif Backgrounds/Indoors/party-room.jpg
  Backgrounds/Indoors/room1.jpg Backgrounds/Indoors/room2.jpg Backgrounds/Indoors/room3.jpg
  Backgrounds/Indoors/spotlight-stage.jpg Backgrounds/Nature/desert.gif Backgrounds/Nature/underwater.gif
  Backgrounds/Nature/woods.gif Backgrounds/Outdoors/train-tracks3.gif Backgrounds/Sports/basketball-court2.png
  Costumes/People/baby.png Costumes/People/ballerina-a.png Costumes/People/ballerina-b.png
  Costumes/People/ballerina-c.png Costumes/People/ballerina-d.png Costumes/People/boy1-standing.gif
  Costumes/People/boy1-walking.gif Costumes/People/boy3.gif
  Costumes/People/boy4-laughing.gif Costumes/People/boy4-shrugging.gif Costumes/People/boy4-walking-a.gif
  Costumes/People/boycurly.png Costumes/People/boyshorts.png Costumes/People/breakdancer-1.gif
  Costumes/People/breakdancer-2.gif Costumes/People/breakdancer-4.gif
  Costumes/People/diver1.png Costumes/People/diver2.png Costumes/People/girl1-standing.gif
  Costumes/People/girl1-walking.gif Costumes/People/girl2-shouting.gif Costumes/People/girl2-standing.gif
  Costumes/People/girl3-basketball.gif Costumes/People/girl3-running.gif
  Costumes/People/girl4-sitting.gif Costumes/People/girl4-standing.gif Costumes/People/girl5.gif
  Costumes/People/roundman.png Costumes/People/singer1.png Costumes/People/squaregirl.png
  Costumes/People/squareguy.png
  Costumes/Fantasy/dragon1-a.png Costumes/Fantasy/dragon2.gif Costumes/Fantasy/fairy.png
  Costumes/Fantasy/fantasy1-a.png Costumes/Fantasy/fantasy10.png Costumes/Fantasy/fantasy11.png
  Costumes/Fantasy/fantasy12.png Costumes/Fantasy/fantasy13.png Costumes/Fantasy/fantasy14.png
  Costumes/Fantasy/fantasy2.png Costumes/Fantasy/fantasy3.png Costumes/Fantasy/fantasy4.png
  Costumes/Fantasy/fantasy5.png Costumes/Fantasy/fantasy6.png Costumes/Fantasy/fantasy7.png
  Costumes/Fantasy/fantasy8.png Costumes/Fantasy/fantasy9.png Costumes/Fantasy/ghost1.png
  Costumes/Fantasy/ghost2-a.png Costumes/Fantasy/ghoul1-a.png Costumes/Fantasy/gobo1.gif
  Costumes/Fantasy/monkeyking.png Costumes/Fantasy/monster1-a.png Costumes/Fantasy/robot1.png
  Costumes/Fantasy/robot2.png Costumes/Fantasy/robot3.gif Costumes/Fantasy/skull1.png
  Costumes/Fantasy/snowman1.png Costumes/Fantasy/troll1.png Costumes/Fantasy/unicorn1.png
  Costumes/Fantasy/wild1.png
)
SCRATCH_HELD_OUT=(
  Backgrounds/Outdoors/school1.gif Backgrounds/Outdoors/school2.jpg Backgrounds/Outdoors/night-city-with-street.gif
  Costumes/People/prince1.png Costumes/People/prince2.png Costumes/People/princess1.png
  Costumes/People/royalperson.png Costumes/People/womanbun.png Costumes/People/womanwaving.png
  Costumes/Fantasy/knight1.png Costumes/Fantasy/witch1.png Costumes/Fantasy/wizard1.png
)
# gcompris: paths under src/ (as in debian/copyright). Characters, animals, scenes; no icons, maps,
# UI, text or sprite strips.
GCOMPRIS_TRAIN=(
  activities/family/resource/{babyBoy,babyGirl,boy1,boy2,girl1,girl2,man1,man2,oldMan1,oldWoman1,woman1,woman2}.svg
  activities/share/resource/images/boy.svg activities/positions/resource/boy.svg
  activities/memory/resource/child.svg activities/followline/resource/fireman.svg
  activities/left_right_click/resource/monkey.svg
  activities/memory/resource/{01_cat,02_pig,03_bear,04_hippopotamus,06_cow,07_sheep,08_turtle,09_panda,10_chicken,12_wolf,13_monkey,14_fox,16_elephant,17_lion,18_gnu,19_bluebaby}.svg
  activities/explore_farm_animals/resource/animals/{cat,chicken,cow,dog,horse,pig}.svg
  core/resource/bonus/{gnu_good,lion_good,panda_good,tux_good,flower_good}.svg
  activities/chronos/resource/images/{garden1,garden4,autumn,spring,summer,chronos-tuxtree1}.svg
  activities/fifteen/resource/Coastal_Path.svg
  activities/photo_hunter/resource/{photo1,photo2,photo3,photo4,photo5,photo7,photo8}.svg
  activities/watercycle/resource/landscape.svg
)
GCOMPRIS_HELD_OUT=(
  activities/family/resource/{man3,oldMan2,oldWoman2,woman3}.svg activities/share/resource/images/girl.svg
  activities/memory/resource/{20_greenbaby,21_frog}.svg
  activities/explore_farm_animals/resource/animals/{owl,sheep}.svg
  activities/chronos/resource/images/winter.svg activities/fifteen/resource/Fishing_Boat_Scene.svg
  activities/photo_hunter/resource/{photo9,photo10}.svg
)
# dicebear: style|licence|design credit (from the package's LICENSE, lines 7-9). avataaars
# ("free for personal and commercial use", not an open licence), personas and miniavs (flat, no
# outlines) and the pixel/identicon/shape styles are not used.
DICEBEAR_STYLES=(
  "adventurer|CC-BY-4.0|\"Adventurer\" by Lisa Wischofsky (figma.com/community/file/1184595184137881796)"
  "big-ears|CC-BY-4.0|\"Face Generator\" by The Visual Team (figma.com/community/file/986078800058673824)"
  "big-smile|CC-BY-4.0|\"Custom Avatar\" by Ashley Seo (figma.com/community/file/881358461963645496)"
  "croodles|CC-BY-4.0|\"Croodles - Doodle your face\" by vijay verma (figma.com/community/file/966199982810283152)"
  "lorelei|CC0-1.0|\"Lorelei\" by Lisa Wischofsky (figma.com/community/file/1198749693280469639)"
  "micah|CC-BY-4.0|\"Avatar Illustration System\" by Micah Lanier (figma.com/community/file/829741575478342595)"
  "notionists|CC0-1.0|\"Notionists\" by Zoish (heyzoish.gumroad.com/l/notionists)"
  "open-peeps|CC0-1.0|\"Open Peeps\" by Pablo Stanley (openpeeps.com)"
  "toon-head|CC-BY-4.0|\"ToonHead\" by Johan Melin (figma.com/community/file/1589627891082866389)"
)
DICEBEAR_TRAIN_N=20    # seeds train-000 .. train-019 per style
DICEBEAR_HELD_OUT_N=4  # seeds held-out-000 .. held-out-003 per style (different characters)

OK_LICENCES='^(public-domain|CC0-1.0|CC-BY-[0-9.]+|CC-BY-SA-[0-9.]+|GPL-[23]\+?|LGPL-[0-9.]+\+?|Expat|MIT)$'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
say() { echo "fetch-drawn: [${SECONDS}s] $*" >&2; }
die() { say "$*"; exit 1; }
# check FILE SHA256
check() { echo "$2  $1" | sha256sum -c --quiet - >/dev/null 2>&1 || die "$1 does not match its pinned SHA-256 ($2)"; }
# safe NAME: a file name without spaces, quotes or other unusual characters.
safe() { local n=${1// /-}; echo "${n//[^A-Za-z0-9._-]/-}"; }
# pv PIN: "package version" of a pin.
pv() { local s=${1%%|*}; echo "${s/=/ }"; }
# row PATH SOURCE LICENCE
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3" >> "$ROWS"; }

# deb PIN: downloads (once) and checks the pinned .deb; prints its path.
deb() {
  local spec=${1%%|*} sum=${1##*|}
  local pkg=${spec%%=*} version=${spec#*=}
  local f="$CACHE/${pkg}_${version//:/%3a}_all.deb"
  if [ ! -f "$f" ]; then
    say "downloading Debian $pkg $version"
    (cd "$CACHE" && apt-get download -q "$pkg=$version" 2>&1 | grep -v 'Download is performed unsandboxed' >&2) || true
    [ -f "$f" ] || die "could not download $pkg=$version (run 'apt-get update'; if the version left the Debian 12 archive, put the .deb from snapshot.debian.org into $CACHE)"
  fi
  check "$f" "$sum"
  echo "$f"
}
# unpack PIN DIR [PATTERN...]: extracts the package (or only the tar PATTERNs) into DIR.
unpack() {
  local f
  f=$(deb "$1")
  mkdir -p "$2"
  if [ $# -gt 2 ]; then
    dpkg-deb --fsys-tarfile "$f" | tar -x -C "$2" --wildcards "${@:3}"
  else
    dpkg-deb -x "$f" "$2"
  fi
}
# fresh SOURCE: empties this source's output folders.
fresh() { rm -rf "data/style/$1" "data/style-held-out/$1"; mkdir -p "data/style/$1" "data/style-held-out/$1"; }

# --- tools: a private venv with the two pinned wheels ---
python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || die "python3 must be CPython 3.11 (Debian 12's) for the pinned Pillow wheel; it is $(python3 --version 2>&1)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' 2>/dev/null \
  || die "node >= 18 is needed for the DiceBear avatars"
TOOLS="$CACHE/drawn-tools"
wheel_files=()
for w in "${WHEELS[@]}"; do
  IFS='|' read -r spec file sum <<< "$w"
  if [ ! -f "$CACHE/$file" ]; then
    say "downloading the $spec wheel"
    python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      "${WHEEL_PLATFORM[@]}" "$spec" -d "$CACHE"
  fi
  check "$CACHE/$file" "$sum"
  wheel_files+=("$CACHE/$file")
done
if ! "$TOOLS/bin/python" -c 'import resvg_py, PIL; assert PIL.__version__ == "13.0.0"' 2>/dev/null; then
  say "installing resvg-py and Pillow into $TOOLS"
  rm -rf "$TOOLS"
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check --no-index --no-deps "${wheel_files[@]}"
fi
PY="$TOOLS/bin/python"

cat > "$tmp/drawn.py" <<'EOF'
"""Helpers for fetch-drawn.sh: render SVG, convert GIF, read Qt .rcc files, look up DEP-5 licences."""
import io, os, re, struct, sys, zlib

def render(src, dst, short=512, svg_string=None):
    """Renders an SVG (file or string) to PNG on white, short side `short` px (at least)."""
    import resvg_py
    from PIL import Image
    kw = dict(background="#ffffff", skip_system_fonts=True)
    kw.update(svg_string=svg_string) if svg_string is not None else kw.update(svg_path=src)
    w, h = Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(**kw)))).size
    png = bytes(resvg_py.svg_to_bytes(zoom=(short + 0.5) / min(w, h), **kw))
    im = Image.open(io.BytesIO(png))
    assert min(im.size) >= short, (src, im.size)
    im.save(dst)

def gif2png(src, dst):
    from PIL import Image
    im = Image.open(src)
    im.seek(0)
    im.convert("RGBA").save(dst)

def rcc_files(path):
    """(path, bytes) of every file in a Qt binary resource (.rcc), paths as "/gcompris/src/..."."""
    buf = open(path, "rb").read()
    assert buf[:4] == b"qres", path
    ver, tree, data, names = struct.unpack(">4i", buf[4:20])
    node = 14 if ver == 1 else 22
    def name(off):
        n, = struct.unpack(">H", buf[names + off:names + off + 2])
        return buf[names + off + 6:names + off + 6 + 2 * n].decode("utf-16-be")
    def walk(i, prefix):
        o = tree + i * node
        noff, flags = struct.unpack(">iH", buf[o:o + 6])
        p = prefix + "/" + name(noff) if i else ""
        if flags & 2:
            cnt, first = struct.unpack(">ii", buf[o + 6:o + 14])
            for c in range(first, first + cnt):
                yield from walk(c, p)
        else:
            doff, = struct.unpack(">i", buf[o + 10:o + 14])
            size, = struct.unpack(">I", buf[data + doff:data + doff + 4])
            blob = buf[data + doff + 4:data + doff + 4 + size]
            if flags & 1:
                blob = zlib.decompress(blob[4:])
            elif flags & 4:
                raise SystemExit(f"{path}: zstd-compressed entry {p} not supported")
            yield p, blob
    yield from walk(0, "")

def dep5(copyright_file, path):
    """(licence, line, holders) of the last DEP-5 `Files:` paragraph matching path."""
    paras, fields, last = [], {}, None
    for no, line in enumerate(open(copyright_file, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line.strip():
            if fields: paras.append(fields)
            fields, last = {}, None
        elif line[0] in " \t" and last:
            v, at = fields[last]; fields[last] = (v + "\n" + line.strip(), at)
        else:
            m = re.match(r"([A-Za-z-]+):\s*(.*)", line)
            if m:
                last = m.group(1).lower(); fields[last] = (m.group(2).strip(), no)
    if fields: paras.append(fields)
    hit = None
    for p in paras:
        if "files" in p and "license" in p:
            for pat in p["files"][0].split():
                rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pat)
                if re.fullmatch(rx, path): hit = p
    if hit is None:
        return None
    lic, line = hit["license"]
    holders = [h for h in hit.get("copyright", ("?", 0))[0].splitlines() if h]
    return lic.splitlines()[0], line, holders

def main():
    cmd = sys.argv[1]
    if cmd == "render":          # render SRC.svg DST.png
        render(sys.argv[2], sys.argv[3])
    elif cmd == "render-list":   # render-list FILE: lines "SRC<TAB>DST"
        for l in open(sys.argv[2]):
            src, dst = l.rstrip("\n").split("\t"); render(src, dst)
    elif cmd == "gif2png-list":  # gif2png-list FILE: lines "SRC<TAB>DST"
        for l in open(sys.argv[2]):
            src, dst = l.rstrip("\n").split("\t"); gif2png(src, dst)
    elif cmd == "rcc-extract":   # rcc-extract OUTDIR WANTED_LIST RCC...: writes wanted paths (under src/)
        out, wanted = sys.argv[2], set(open(sys.argv[3]).read().split())
        for rcc in sys.argv[4:]:
            for p, blob in rcc_files(rcc):
                rel = p.split("/src/", 1)[-1] if "/src/" in p else None
                if rel in wanted:
                    d = os.path.join(out, rel); os.makedirs(os.path.dirname(d), exist_ok=True)
                    open(d, "wb").write(blob); wanted.discard(rel)
        if wanted:
            raise SystemExit("not found in the .rcc files: " + " ".join(sorted(wanted)))
    elif cmd == "dep5":          # dep5 COPYRIGHT PATH...: PATH<TAB>LICENCE<TAB>LINE<TAB>HOLDERS
        for path in sys.argv[3:]:
            r = dep5(sys.argv[2], path)
            if r is None: raise SystemExit(f"{path}: no Files paragraph in {sys.argv[2]}")
            lic, line, holders = r
            # attribution licences keep every holder; others are shortened past three
            full = lic.startswith("CC-BY") or len(holders) <= 3
            h = "; ".join(holders) if full else f"{holders[0]} and {len(holders) - 1} others"
            print(f"{path}\t{lic}\t{line}\t{h}")

main()
EOF

# ===================== art4apps (pysiogame) =====================
say "art4apps (Debian $(pv "$PYSIOGAME"))"
fresh art4apps
d="$tmp/pysiogame"
unpack "$PYSIOGAME" "$d" './usr/share/games/pysiogame/res/images/art4apps/*' \
  ./usr/share/doc/pysiogame/copyright ./usr/share/doc/pysiogame/CREDITS.txt.gz
zcat "$d/usr/share/doc/pysiogame/CREDITS.txt.gz" | grep -qF 'created by Smart4Kids under a Creative Commons License (CC BY-SA)' \
  || die "pysiogame CREDITS.txt no longer credits Art4Apps under CC BY-SA"
A4A=usr/share/games/pysiogame/res/images/art4apps
# Debian's licence for every file used: the `Files: *` paragraph (GPL-3+, line 10).
for c in "${ART4APPS_TRAIN[@]}" "${ART4APPS_HELD_OUT[@]}"; do
  (cd "$d/usr/share/games/pysiogame" && printf '%s\n' res/images/art4apps/"$c"/*.jpg)
done > "$tmp/a4a.list"
"$PY" "$tmp/drawn.py" dep5 "$d/usr/share/doc/pysiogame/copyright" $(cat "$tmp/a4a.list") | cut -f2,3 | sort -u > "$tmp/a4a.lic"
[ "$(cat "$tmp/a4a.lic")" = "$(printf 'GPL-3+\t10')" ] || die "pysiogame: unexpected debian/copyright licences: $(cat "$tmp/a4a.lic")"
a4a_lic="CC-BY-SA-3.0, Art4Apps (art4apps.org) by Smart4Kids (credited in the package's CREDITS.txt lines 65-66; the same set is CC-BY-SA-3.0 in Debian gcompris-qt-data's copyright, lines 1670-1672); debian/copyright \`Files: *\` (line 10): GPL-3+, © 2012-2013 Ireneusz Imiolek"
declare -A seen=()
for split in train held-out; do
  if [ $split = train ]; then cats=("${ART4APPS_TRAIN[@]}"); dest=data/style/art4apps; else cats=("${ART4APPS_HELD_OUT[@]}"); dest=data/style-held-out/art4apps; fi
  for c in "${cats[@]}"; do
    for f in "$d/$A4A/$c"/*.jpg; do
      n=$(basename "$f"); sum=$(sha256sum "$f" | cut -d' ' -f1)
      [ -z "${seen[$sum]:-}" ] || continue   # the same drawing filed under two categories
      seen[$sum]=1
      out="$dest/$(safe "$c-$n")"
      cp "$f" "$out"
      row "${out#data/}" "Debian $(pv "$PYSIOGAME") (\`res/images/art4apps/$c/$n\`; 200x200 drawn cartoon)" "$a4a_lic"
    done
  done
done

# ===================== wesnoth portraits =====================
say "wesnoth (Debian $(pv "$WESNOTH"))"
fresh wesnoth
d="$tmp/wesnoth"
WP=usr/share/games/wesnoth/1.16/data/core/images/portraits
unpack "$WESNOTH" "$d" "./$WP/*" ./usr/share/doc/wesnoth-1.16-data/copyright
wcopy="$d/usr/share/doc/wesnoth-1.16-data/copyright"
sed -n 39,46p "$wcopy" | tr -s ' \n' ' ' | grep -q 'GNU General Public License version 2 or at your option any later version' \
  || die "wesnoth-1.16-data copyright changed (expected GPL-2+ at lines 39-46)"
cp "$d/$WP/ARTISTS" data/style/wesnoth/ARTISTS.txt
wes_lic="GPL-2+, © 2003-2009 David White and the Wesnoth contributors (debian/copyright lines 13-46); portrait artists credited in data/core/images/portraits/ARTISTS (copied as style/wesnoth/ARTISTS.txt)"
for split in train held-out; do
  if [ $split = train ]; then races=("${WESNOTH_TRAIN[@]}"); dest=data/style/wesnoth; else races=("${WESNOTH_HELD_OUT[@]}"); dest=data/style-held-out/wesnoth; fi
  for r in "${races[@]}"; do
    for f in "$d/$WP/$r"/*.png; do
      n=$(basename "$f"); out="$dest/$(safe "$r-$n")"
      cp "$f" "$out"
      row "${out#data/}" "Debian $(pv "$WESNOTH") (\`data/core/images/portraits/$r/$n\`; inked, painted portrait, RGBA)" "$wes_lic"
    done
  done
done

# ===================== ceferino =====================
say "ceferino (Debian $(pv "$CEFERINO"))"
fresh ceferino
d="$tmp/ceferino"
unpack "$CEFERINO" "$d" './usr/share/games/ceferino/ima/*' ./usr/share/doc/ceferino-data/copyright
grep -q 'either version 2 of the License, or' "$d/usr/share/doc/ceferino-data/copyright" || die "ceferino-data copyright changed"
cef_lic="GPL-2+, © 2004-2005 Hugo Ruscitti; upstream authors Hugo Ruscitti, Walter Velazquez, Gabriel Valentin (debian/copyright lines 6-18)"
for n in "${CEFERINO_TRAIN[@]}"; do
  cp "$d/usr/share/games/ceferino/ima/$n" "data/style/ceferino/$n"
  row "style/ceferino/$n" "Debian $(pv "$CEFERINO") (\`ima/$n\`; comic illustration)" "$cef_lic"
done
for n in "${CEFERINO_HELD_OUT[@]}"; do
  cp "$d/usr/share/games/ceferino/ima/$n" "data/style-held-out/ceferino/$n"
  row "style-held-out/ceferino/$n" "Debian $(pv "$CEFERINO") (\`ima/$n\`; comic illustration)" "$cef_lic"
done

# ===================== scratch =====================
say "scratch (Debian $(pv "$SCRATCH"))"
fresh scratch
d="$tmp/scratch"
unpack "$SCRATCH" "$d" './usr/share/scratch/Media/Costumes/*' './usr/share/scratch/Media/Backgrounds/*' \
  ./usr/share/doc/scratch/copyright
"$PY" "$tmp/drawn.py" dep5 "$d/usr/share/doc/scratch/copyright" "${SCRATCH_TRAIN[@]/#/Media/}" "${SCRATCH_HELD_OUT[@]/#/Media/}" \
  | cut -f2,3 | sort -u > "$tmp/scratch.lic"
[ "$(cat "$tmp/scratch.lic")" = "$(printf 'CC-BY-SA-3.0\t25')" ] || die "scratch: unexpected debian/copyright licences: $(cat "$tmp/scratch.lic")"
scratch_lic="CC-BY-SA-3.0, © 2011 Massachusetts Institute of Technology, Scratch 1.4 media library (debian/copyright \`Files: Help/* Media/* Projects\`, lines 23-25)"
: > "$tmp/scratch.gifs"
scratch_one() {  # scratch_one DEST MEDIA_PATH
  local dest=$1 m=$2 base out note
  base=$(safe "$(echo "$m" | cut -d/ -f2 | tr 'A-Z' 'a-z')-$(basename "$m")")
  case $m in
    *.gif) out="$dest/${base%.gif}.png"; printf '%s\t%s\n' "$d/usr/share/scratch/Media/$m" "$out" >> "$tmp/scratch.gifs"; note='; GIF frame 0 as PNG' ;;
    *) out="$dest/$base"; cp "$d/usr/share/scratch/Media/$m" "$out"; note= ;;
  esac
  case $m in Backgrounds/*) note+="; drawn background" ;; *) note+="; drawn sprite, alpha" ;; esac
  row "${out#data/}" "Debian $(pv "$SCRATCH") (\`Media/$m\`$note)" "$scratch_lic"
}
for m in "${SCRATCH_TRAIN[@]}"; do scratch_one data/style/scratch "$m"; done
for m in "${SCRATCH_HELD_OUT[@]}"; do scratch_one data/style-held-out/scratch "$m"; done
"$PY" "$tmp/drawn.py" gif2png-list "$tmp/scratch.gifs"

# ===================== gcompris =====================
say "gcompris (Debian $(pv "$GCOMPRIS"))"
fresh gcompris
d="$tmp/gcompris"
unpack "$GCOMPRIS" "$d" './usr/share/gcompris-qt/rcc/*.rcc' ./usr/share/doc/gcompris-qt-data/copyright
printf '%s\n' "${GCOMPRIS_TRAIN[@]}" "${GCOMPRIS_HELD_OUT[@]}" > "$tmp/gc.wanted"
"$PY" "$tmp/drawn.py" rcc-extract "$tmp/gc-svg" "$tmp/gc.wanted" "$d"/usr/share/gcompris-qt/rcc/*.rcc
mapfile -t gc_paths < <(printf 'src/%s\n' "${GCOMPRIS_TRAIN[@]}" "${GCOMPRIS_HELD_OUT[@]}")
"$PY" "$tmp/drawn.py" dep5 "$d/usr/share/doc/gcompris-qt-data/copyright" "${gc_paths[@]}" > "$tmp/gc.lic"
declare -A GC_LIC=()
while IFS=$'\t' read -r p lic line holders; do
  [[ $lic =~ $OK_LICENCES ]] || die "gcompris: $p is $lic (line $line); not an accepted licence"
  GC_LIC[${p#src/}]="$lic, © $holders (debian/copyright line $line)"
done < "$tmp/gc.lic"
: > "$tmp/gc.render"
gc_name() { local p=${1#activities/}; p=${p#core/resource/}; p=${p//\/resource\//-}; p=${p//images\//}; p=${p//animals\//}; safe "${p//\//-}"; }
for p in "${GCOMPRIS_TRAIN[@]}"; do printf '%s\t%s\n' "$tmp/gc-svg/$p" "data/style/gcompris/$(gc_name "$p" | sed 's/\.svg$/.png/')" >> "$tmp/gc.render"; done
for p in "${GCOMPRIS_HELD_OUT[@]}"; do printf '%s\t%s\n' "$tmp/gc-svg/$p" "data/style-held-out/gcompris/$(gc_name "$p" | sed 's/\.svg$/.png/')" >> "$tmp/gc.render"; done
"$PY" "$tmp/drawn.py" render-list "$tmp/gc.render"
while IFS=$'\t' read -r src out; do
  p=${src#"$tmp/gc-svg/"}
  row "${out#data/}" "Debian $(pv "$GCOMPRIS") (\`src/$p\` in usr/share/gcompris-qt/rcc/*.rcc; flat vector, rendered with resvg-py 0.5.0, short side 512, on white)" "${GC_LIC[$p]}"
done < "$tmp/gc.render"

# ===================== dicebear =====================
say "dicebear (npm @dicebear/*@$DICEBEAR_VERSION)"
fresh dicebear
command -v node >/dev/null || die "node is needed for the DiceBear avatars"
nm="$tmp/dicebear/node_modules/@dicebear"
mkdir -p "$nm"
for e in "${DICEBEAR_NPM[@]}"; do
  s=${e%%|*}; sum=${e##*|}; tgz="$CACHE/dicebear-$s-$DICEBEAR_VERSION.tgz"
  if [ ! -f "$tgz" ]; then
    say "downloading @dicebear/$s@$DICEBEAR_VERSION"
    (cd "$CACHE" && npm pack -q "@dicebear/$s@$DICEBEAR_VERSION" >/dev/null)
  fi
  check "$tgz" "$sum"
  mkdir -p "$nm/$s"; tar -xzf "$tgz" -C "$nm/$s" --strip-components=1
done
cat > "$tmp/dicebear/gen.mjs" <<'EOF'
// node gen.mjs OUTDIR STYLE PREFIX N: OUTDIR/STYLE-PREFIX-NNN.svg for seeds PREFIX-000 ..
import { createAvatar } from '@dicebear/core';
import fs from 'node:fs';
const [out, s, prefix, n] = process.argv.slice(2);
const style = await import(`@dicebear/${s}`);
fs.mkdirSync(out, { recursive: true });
for (let i = 0; i < Number(n); i++) {
  const seed = `${prefix}-${String(i).padStart(3, '0')}`;
  fs.writeFileSync(`${out}/${s}-${seed}.svg`, createAvatar(style, { seed, size: 512 }).toString());
}
EOF
: > "$tmp/db.render"
for e in "${DICEBEAR_STYLES[@]}"; do
  IFS='|' read -r s lic credit <<< "$e"
  [[ $lic =~ $OK_LICENCES ]] || die "dicebear $s: $lic"
  case $lic in CC-BY-4.0) want="License: CC BY 4.0 " ;; CC0-1.0) want="License: CC0 1.0 " ;; *) die "dicebear $s: $lic" ;; esac
  sed -n 9p "$nm/$s/LICENSE" | grep -qF "$want" || die "@dicebear/$s LICENSE line 9 is not $lic: $(sed -n 9p "$nm/$s/LICENSE")"
  node "$tmp/dicebear/gen.mjs" "$tmp/db-svg" "$s" train "$DICEBEAR_TRAIN_N"
  node "$tmp/dicebear/gen.mjs" "$tmp/db-svg" "$s" held-out "$DICEBEAR_HELD_OUT_N"
  for f in "$tmp/db-svg/$s"-train-*.svg; do printf '%s\t%s\n' "$f" "data/style/dicebear/$(basename "${f%.svg}").png" >> "$tmp/db.render"; done
  for f in "$tmp/db-svg/$s"-held-out-*.svg; do printf '%s\t%s\n' "$f" "data/style-held-out/dicebear/$(basename "${f%.svg}").png" >> "$tmp/db.render"; done
done
"$PY" "$tmp/drawn.py" render-list "$tmp/db.render"
declare -A DB_LIC=()
for e in "${DICEBEAR_STYLES[@]}"; do IFS='|' read -r s lic credit <<< "$e"; DB_LIC[$s]="$lic, design $credit (package LICENSE lines 7-9); composed and rendered on white (changed); code MIT © Florian Körner"; done
while IFS=$'\t' read -r src out; do
  b=$(basename "$src" .svg); s=${b%-train-*}; s=${s%-held-out-*}; seed=${b#"$s"-}
  row "${out#data/}" "npm @dicebear/$s@$DICEBEAR_VERSION + @dicebear/core@$DICEBEAR_VERSION (avatar, seed \`$seed\`, 512x512, rendered with resvg-py 0.5.0)" "${DB_LIC[$s]}"
done < "$tmp/db.render"

# ===================== summary =====================
# No file may be both trained on and held out.
ours=(art4apps wesnoth ceferino scratch gcompris dicebear)
dups=$(comm -12 <(find "${ours[@]/#/data/style/}" -type f ! -name '*.txt' -exec sha256sum {} + | cut -d' ' -f1 | sort -u) \
  <(find "${ours[@]/#/data/style-held-out/}" -type f -exec sha256sum {} + | cut -d' ' -f1 | sort -u))
[ -z "$dups" ] || die "files both in training and held out: $dups"
counts=""
for s in art4apps wesnoth ceferino scratch gcompris dicebear; do
  counts+=" $s=$(find "data/style/$s" -type f ! -name '*.txt' | wc -l)/$(find "data/style-held-out/$s" -type f | wc -l)"
done
say "train/held-out:$counts"
say "$(find data/style/{art4apps,wesnoth,ceferino,scratch,gcompris,dicebear} -type f ! -name '*.txt' | wc -l) drawn training images, $(find data/style-held-out/{art4apps,wesnoth,ceferino,scratch,gcompris,dicebear} -type f | wc -l) held out; rows appended to $ROWS"
