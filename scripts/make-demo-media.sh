#!/usr/bin/env bash
# Makes the demo source's media once: four looping test-card feeds ("World feed" in two renditions),
# 2 s MPEG-TS segments, each with a label, a running clock and its own tone. The output is committed
# (under 4 MB); Pitlane serves it as live HLS with expiring tokens (see Sources/PitlaneServer/Demo).
# Needs ffmpeg with drawtext (Debian: apt-get install ffmpeg fonts-dejavu-core).
set -euo pipefail
cd "$(dirname "$0")/.."
out=Sources/PitlaneServer/Resources/demo
loop=30   # seconds per loop: 15 segments
font=$(fc-match -f '%{file}' 'DejaVu Sans:bold' 2>/dev/null || echo /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf)
rm -rf "$out"
mkdir -p "$out"

# make FEED RENDITION SOURCE SIZE VIDEO_KBPS TONE_HZ LABEL
make() {
    local feed=$1 rendition=$2 source=$3 size=$4 kbps=$5 tone=$6 label=$7
    local dir="$out/$feed/$rendition"
    mkdir -p "$dir"
    local w=${size%x*}
    local big=$((w / 12)) small=$((w / 20))
    ffmpeg -hide_banner -loglevel error -y \
        -f lavfi -i "$source=size=$size:rate=25" \
        -f lavfi -i "sine=frequency=$tone:sample_rate=48000" \
        -t "$loop" \
        -vf "drawbox=x=0:y=ih*0.62:w=iw:h=ih*0.3:color=black@0.7:t=fill,\
drawtext=fontfile=$font:text='$label':fontcolor=white:fontsize=$big:x=(w-tw)/2:y=h*0.64,\
drawtext=fontfile=$font:text='PITLANE DEMO  %{pts\\:hms}':fontcolor=yellow:fontsize=$small:x=(w-tw)/2:y=h*0.64+$big*1.3" \
        -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -b:v "${kbps}k" -maxrate "$((kbps * 3 / 2))k" -bufsize "$((kbps * 2))k" \
        -g 50 -keyint_min 50 -sc_threshold 0 \
        -c:a aac -b:a 32k -ac 1 \
        -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_filename "$dir/%02d.ts" "$dir/index.m3u8"
}

make world high testsrc2 640x360 200 440 'WORLD FEED'
make world low testsrc2 320x180 90 440 'WORLD FEED'
make onboard-a main smptehdbars 426x240 110 550 'ONBOARD A'
make onboard-b main testsrc 426x240 110 660 'ONBOARD B'
make pit-lane main pal100bars 426x240 110 330 'PIT LANE'
du -sh "$out"
