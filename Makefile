# The two commands of README.md, plus the pieces they are made of.
.PHONY: run test hlsjs build

# Start Pitlane on http://127.0.0.1:8080 (fetches hls.js on first use so Firefox can play too).
run: hlsjs
	swift run pitlane serve

# The whole test suite (what .ci/run calls after installing what it needs).
test: hlsjs
	./scripts/test

hlsjs: Sources/PitlaneServer/Resources/web/vendor/hls.mjs

Sources/PitlaneServer/Resources/web/vendor/hls.mjs:
	python3 scripts/fetch-hlsjs.py

build: hlsjs
	swift build
