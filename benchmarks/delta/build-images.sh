#!/bin/bash
# builds the ext4 image pairs of the delta benchmark (benchmarks/RESULTS.md): old, a month of security updates (new), an application update (app), an unrelated image (unrel)
set -euo pipefail
cd "$(dirname "$0")"
BASE="libc6 libc-bin libcurl4 curl openssh-server openssh-client libxml2 libsqlite3-0 libsystemd0 busybox bash coreutils tar gzip zlib1g libglib2.0-0 libgnutls30 dnsmasq-base iproute2 iptables less vim-tiny libkrb5-3 libgssapi-krb5-2 gnupg gpg gpgv libnm0 mosquitto python3-cryptography sqlite3 util-linux e2fsprogs libelf1 perl-base nodejs libnode108"
CHANGED="openssl libssl3 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3.11 libexpat1 nginx-core nginx-common libpam-modules libpam0g libpng16-16 libssh-4 tzdata"
APP="nodejs libnode108"
UNRELATED="mariadb-client-core postgresql-client-15 libmagickcore-6.q16-6 ffmpeg libavcodec59 libavformat59 libavfilter8 libx265-199 libaom3 linux-libc-dev libgtk-3-0 libgtk-3-common libclang-cpp14"
mkdir -p debs/main debs/sec
ver() { apt-cache madison "$1" | awk -v s="$2" '$0 ~ s {print $3; exit}'; }
for p in $BASE $CHANGED $UNRELATED; do
  v=$(apt-cache madison "$p" | grep -v security | awk '{print $3; exit}')
  ls debs/main/${p}_* >/dev/null 2>&1 || (cd debs/main && apt-get download -qq "$p=$v")
done
for p in $CHANGED $APP; do
  v=$(apt-cache madison "$p" | grep security | awk '{print $3; exit}')
  ls debs/sec/${p}_* >/dev/null 2>&1 || (cd debs/sec && apt-get download -qq "$p=$v")
done
unpack() { # dir, debs...
  local d=$1; shift; rm -rf "$d"; mkdir -p "$d"
  for f in "$@"; do dpkg-deb -x "$f" "$d"; done
}
pick() { # dir package -> the deb
  ls "$1"/"$2"_*.deb | head -1
}
old=(); new=(); app=(); unrel=()
for p in $BASE; do old+=("$(pick debs/main $p)"); done
new=("${old[@]}"); app=("${old[@]}")
for p in $CHANGED; do old+=("$(pick debs/main $p)"); new+=("$(pick debs/sec $p)"); app+=("$(pick debs/main $p)"); done
# application update: the old image with nodejs/libnode108 from security (a rebuilt 46 MB library)
app=(); for p in $BASE $CHANGED; do case " $APP " in *" $p "*) app+=("$(pick debs/sec $p)");; *) app+=("$(pick debs/main $p)");; esac; done
for p in $UNRELATED; do unrel+=("$(pick debs/main $p)"); done
unpack root-old "${old[@]}"; unpack root-new "${new[@]}"; unpack root-app "${app[@]}"; unpack root-unrel "${unrel[@]}"
du -sm root-old root-new root-app root-unrel
for n in old new app unrel; do
  rm -f $n.img; mkfs.ext4 -q -F -E root_owner=0:0 -d root-$n $n.img 224M
done
ls -l *.img
