#!/usr/bin/env node
/* tools/eval/eval.js — score feedbackd's sentiment engine and the npm peers
 * (vader-sentiment 1.1.3, sentiment 5.0.2, wink-sentiment 5.0.2) over every
 * labelled set in ../shared/eval, with the metrics its README defines, and
 * print one markdown table.
 *
 * Design: every set is a LABEL<TAB>TEXT file (*.tsv in a subdirectory of the
 * eval dir). Only pos/neg items are scored. Our engine runs as the external
 * program build/fb_score (one text per line on stdin -> compound<TAB>LABEL
 * per line, all texts of a set in one process, so lexicon loading is paid
 * once per set); its throughput comes from `fb_score --bench FILE`, which
 * times only the scoring loop in CPU time; the peers' figure likewise times
 * only their scoring loop, in this process, in CPU time. A prediction is
 * positive at compound >= 0.05, negative at <= -0.05, neutral (= wrong)
 * otherwise. For the AFINN
 * peers the "compound" is their summed `score` (its sign decides), which
 * reproduces the README's table exactly.
 *
 * Usage: eval.js [--check] [--sets a,b] [--no-peers] [--thresholds FILE]
 *   --check       compare our figures with tools/eval/thresholds.txt
 *                 (set<TAB>metric<TAB>min) and exit 1 on any regression
 *   --sets a,b    only these sets (ids: amazon, yelp, imdb, airline, …)
 *   --no-peers    score our engine only (fast)
 * Env: FB_EVAL_DIR (default: <repo parent>/shared/eval; from a git worktree
 *      also the main checkout's parent's shared/eval),
 *      FB_SCORE (default: <repo>/build/fb_score), FB_EVAL_LANG (default en;
 *      "guess" lets the engine guess each text's language from stopwords).
 * Where the eval dir is absent (a user's machine) it prints
 * "skipped: ../shared/eval not found" and exits 0.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const REPO = path.resolve(__dirname, '..', '..');
const THRESHOLD = 0.05;
const METRICS = ['bal', 'rec+', 'rec-', 'cov'];

/* Display names: the README's "uci amazon", "semeval restaurants", … */
const DIR_PREFIX = {
    'uci-sentiment-labelled-sentences': 'uci ',
    'semeval2014-absa': 'semeval ',
};

function usage(msg) {
    if (msg) process.stderr.write(`eval: ${msg}\n`);
    process.stderr.write('usage: tools/eval/run [--check] [--sets a,b] [--no-peers] [--thresholds FILE]\n');
    process.exit(2);
}

function parseArgs(argv) {
    const o = { check: false, sets: null, peers: true,
                thresholds: path.join(__dirname, 'thresholds.txt') };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--check') o.check = true;
        else if (a === '--no-peers') o.peers = false;
        else if (a === '--sets') {
            if (i + 1 >= argv.length) usage('--sets needs a comma-separated list');
            o.sets = argv[++i].split(',').map(s => s.trim()).filter(Boolean);
        } else if (a === '--thresholds') {
            if (i + 1 >= argv.length) usage('--thresholds needs a file');
            o.thresholds = argv[++i];
        } else if (a === '-h' || a === '--help') usage();
        else usage(`unknown argument ${a}`);
    }
    return o;
}

/* Every *.tsv under the eval dir's subdirectories, sorted for a stable table. */
function findSets(evalDir) {
    const sets = [];
    for (const d of fs.readdirSync(evalDir).sort()) {
        const dir = path.join(evalDir, d);
        if (!fs.statSync(dir).isDirectory()) continue;
        for (const f of fs.readdirSync(dir).sort()) {
            if (!f.endsWith('.tsv')) continue;
            const id = f.slice(0, -4);
            sets.push({ id, name: (DIR_PREFIX[d] || '') + id, file: path.join(dir, f) });
        }
    }
    return sets;
}

/* pos/neg items of a LABEL<TAB>TEXT file. Texts are kept as they are
 * (U+0085/U+0096 included); a line break inside a text cannot occur. */
function loadSet(file) {
    const items = [];
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const tab = line.indexOf('\t');
        if (tab < 0) continue;
        const label = line.slice(0, tab);
        if (label !== 'pos' && label !== 'neg') continue;
        items.push({ label, text: line.slice(tab + 1).replace(/\r$/, '') });
    }
    return items;
}

function metrics(items, compounds) {
    let pos = 0, neg = 0, posOk = 0, negOk = 0, covered = 0;
    items.forEach((it, i) => {
        const c = compounds[i];
        const pred = c >= THRESHOLD ? 'pos' : c <= -THRESHOLD ? 'neg' : 'neu';
        if (pred !== 'neu') covered++;
        if (it.label === 'pos') { pos++; if (pred === 'pos') posOk++; }
        else { neg++; if (pred === 'neg') negOk++; }
    });
    const recPos = pos ? 100 * posOk / pos : 0;
    const recNeg = neg ? 100 * negOk / neg : 0;
    return { bal: (recPos + recNeg) / 2, 'rec+': recPos, 'rec-': recNeg,
             cov: items.length ? 100 * covered / items.length : 0 };
}

/* ---- the peers: time only the scoring loop ------------------------------ */
function loadPeers() {
    const vader = require('vader-sentiment');
    const Sentiment = require('sentiment');
    const wink = require('wink-sentiment');
    const afinn = new Sentiment();
    return [
        { name: 'vader', score: t => vader.SentimentIntensityAnalyzer.polarity_scores(t).compound },
        { name: 'sentiment', score: t => afinn.analyze(t).score },
        { name: 'wink', score: t => wink(t).score },
    ];
}

/* CPU time (user + system), the clock fb_score --bench uses too, so a busy
 * machine does not skew the texts/s column. */
function runPeer(peer, items) {
    const out = new Array(items.length);
    const t0 = process.cpuUsage();
    for (let i = 0; i < items.length; i++) out[i] = peer.score(items[i].text);
    const u = process.cpuUsage(t0);
    const secs = (u.user + u.system) / 1e6;
    return { compounds: out, textsPerSec: items.length / secs };
}

/* ---- our engine through build/fb_score ---------------------------------- */
function fbScorePath() {
    return process.env.FB_SCORE || path.join(REPO, 'build', 'fb_score');
}

/* Newlines never occur inside a text, but guard anyway: fb_score reads one
 * text per line, so a stray \n would shift every later answer. */
function oneLine(t) { return t.replace(/[\r\n]/g, ' '); }

function runOurs(items, lang, tmpDir) {
    const exe = fbScorePath();
    const input = items.map(it => oneLine(it.text)).join('\n') + '\n';
    const args = lang === 'guess' ? [] : ['--lang', lang];
    const r = spawnSync(exe, args, { input, maxBuffer: 1 << 28, encoding: 'utf8' });
    if (r.error) throw new Error(`${exe}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${exe} ${args.join(' ')} exited ${r.status}: ${(r.stderr || '').trim()}`);
    const lines = r.stdout.split('\n').filter(l => l.length);
    if (lines.length !== items.length)
        throw new Error(`${exe}: ${items.length} texts in, ${lines.length} lines out`);
    const compounds = lines.map((l, i) => {
        const v = parseFloat(l.split('\t')[0]);
        if (!Number.isFinite(v)) throw new Error(`${exe}: line ${i + 1}: not a compound: ${l}`);
        return v;
    });
    /* Throughput: fb_score --bench times only its scoring loop. */
    const f = path.join(tmpDir, 'texts.txt');
    fs.writeFileSync(f, input);
    const b = spawnSync(exe, ['--bench', f], { encoding: 'utf8' });
    let textsPerSec = NaN;
    if (b.status === 0) {
        const fields = b.stdout.trim().split(/\s+/).map(Number);
        textsPerSec = fields[4]; /* bytes texts seconds MB/s texts/s */
    }
    return { compounds, textsPerSec };
}

/* ---- output -------------------------------------------------------------- */
function fmtRate(r) {
    if (!Number.isFinite(r)) return 'n/a';
    if (r >= 1e6) return (r / 1e6).toFixed(2) + 'M';
    if (r >= 1e3) return (r / 1e3).toFixed(r >= 1e5 ? 0 : 1) + 'k';
    return r.toFixed(0);
}

function row(cells) { return '| ' + cells.join(' | ') + ' |'; }

function readThresholds(file) {
    const th = [];
    if (!fs.existsSync(file)) return th;
    fs.readFileSync(file, 'utf8').split('\n').forEach((line, n) => {
        if (!line.trim() || line.startsWith('#')) return;
        const f = line.split('\t');
        if (f.length !== 3 || !METRICS.includes(f[1]) || !Number.isFinite(Number(f[2])))
            throw new Error(`${file}:${n + 1}: want set<TAB>metric<TAB>min, metric one of ${METRICS.join(' ')}`);
        th.push({ set: f[0], metric: f[1], min: Number(f[2]) });
    });
    return th;
}

/* FB_EVAL_DIR, else <repo>/../shared/eval; in a git worktree (a helper's
 * checkout) also the main checkout's ../shared/eval. */
function findEvalDir() {
    if (process.env.FB_EVAL_DIR) return process.env.FB_EVAL_DIR;
    const primary = path.join(REPO, '..', 'shared', 'eval');
    if (fs.existsSync(primary)) return primary;
    const g = spawnSync('git', ['-C', REPO, 'rev-parse', '--path-format=absolute', '--git-common-dir'],
                        { encoding: 'utf8' });
    if (g.status === 0) {
        const alt = path.join(path.dirname(g.stdout.trim()), '..', 'shared', 'eval');
        if (fs.existsSync(alt)) return path.resolve(alt);
    }
    return primary;
}

function main() {
    const opt = parseArgs(process.argv.slice(2));
    const evalDir = findEvalDir();
    if (!fs.existsSync(evalDir) || !fs.statSync(evalDir).isDirectory()) {
        console.log(`skipped: ../shared/eval not found (looked in ${evalDir}; set FB_EVAL_DIR to override)`);
        return 0;
    }
    let sets = findSets(evalDir);
    if (opt.sets) {
        const unknown = opt.sets.filter(s => !sets.some(x => x.id === s));
        if (unknown.length) usage(`unknown set(s) ${unknown.join(',')}; have ${sets.map(s => s.id).join(',')}`);
        sets = sets.filter(s => opt.sets.includes(s.id));
    }
    const lang = process.env.FB_EVAL_LANG || 'en';
    const haveOurs = fs.existsSync(fbScorePath());
    if (!haveOurs) {
        const msg = `${fbScorePath()} not found: build it with ./tools/build plain`;
        if (opt.check) { console.error(`eval: ${msg}`); return 1; }
        console.log(`note: ${msg}; scoring the peers only`);
    }
    const peers = opt.peers ? loadPeers() : [];
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fb-eval-'));
    const results = []; /* {set, scorer, m, rate} */
    try {
        for (const s of sets) {
            const items = loadSet(s.file);
            if (haveOurs) {
                const r = runOurs(items, lang, tmpDir);
                results.push({ set: s, scorer: 'feedbackd', m: metrics(items, r.compounds), rate: r.textsPerSec, n: items.length });
            }
            for (const p of peers) {
                const r = runPeer(p, items);
                results.push({ set: s, scorer: p.name, m: metrics(items, r.compounds), rate: r.textsPerSec, n: items.length });
            }
        }
    } finally {
        fs.rmSync(tmpDir, { recursive: true, force: true });
    }

    console.log(`Sentiment evaluation: ${evalDir} (pos/neg items only; neutral prediction = wrong; lang ${lang})\n`);
    console.log(row(['set', 'scorer', 'items', 'bal %', 'rec+ %', 'rec- %', 'cov %', 'texts/s']));
    console.log(row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const r of results)
        console.log(row([r.set.name, r.scorer, r.n, ...METRICS.map(k => r.m[k].toFixed(1)), fmtRate(r.rate)]));

    if (haveOurs && peers.length) {
        console.log('\nTargets (issue 3): bal >= best peer + 8, rec- >= 70, rec+ >= 75');
        for (const s of sets) {
            const ours = results.find(r => r.set === s && r.scorer === 'feedbackd');
            const best = Math.max(...results.filter(r => r.set === s && r.scorer !== 'feedbackd').map(r => r.m.bal));
            const ok = ours.m.bal >= best + 8 && ours.m['rec-'] >= 70 && ours.m['rec+'] >= 75;
            console.log(`  ${s.name}: bal ${ours.m.bal.toFixed(1)} vs best peer ${best.toFixed(1)} ` +
                        `(${(ours.m.bal - best >= 0 ? '+' : '') + (ours.m.bal - best).toFixed(1)}), ` +
                        `rec- ${ours.m['rec-'].toFixed(1)}, rec+ ${ours.m['rec+'].toFixed(1)}: ${ok ? 'met' : 'NOT met'}`);
        }
    }

    if (!opt.check) return 0;
    const th = readThresholds(opt.thresholds);
    if (!th.length) { console.error(`eval: --check: no thresholds in ${opt.thresholds}`); return 1; }
    let failed = 0, checked = 0;
    for (const t of th) {
        const r = results.find(x => x.set.id === t.set && x.scorer === 'feedbackd');
        if (!r) continue; /* set filtered out by --sets, or absent here */
        checked++;
        const v = r.m[t.metric];
        if (v < t.min) {
            failed++;
            console.error(`REGRESSION ${t.set} ${t.metric}: ${v.toFixed(1)} < threshold ${t.min}`);
        }
    }
    console.log(`\nthresholds: ${checked - failed} passed, ${failed} failed`);
    return failed ? 1 : 0;
}

try {
    process.exitCode = main();
} catch (e) {
    console.error(`eval: ${e.message}`);
    process.exitCode = 1;
}
