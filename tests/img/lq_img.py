#!/usr/bin/env python3
"""lq-img against qemu-img (Debian qemu-utils), no KVM needed.

Images lq-img creates must pass `qemu-img check` and read back the same
through qemu-img info; on images qemu-img makes, lq-img info/map/check
must agree with qemu-img's own answers; convert must give the bytes
qemu-img convert gives; bad input must fail with a message, never crash.

Usage: lq_img.py --lq-img PATH [-v]
"""
import argparse
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import tempfile

LQ = None
VERBOSE = False
passed = 0
failed = []


def run(*args, check=True):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError('%s: exit %d\n%s%s' % (' '.join(map(str, args)), p.returncode,
                                                  p.stdout, p.stderr))
    return p


def lq(*args, check=True):
    return run(LQ, *args, check=check)


def qinfo(path, chain=False):
    extra = ['--backing-chain'] if chain else []
    return json.loads(run('qemu-img', 'info', '--output=json', *extra, path).stdout)


def expect(cond, what):
    global passed
    if cond:
        passed += 1
        if VERBOSE:
            print('ok   ' + what)
    else:
        failed.append(what)
        print('FAIL ' + what)


def qcheck_clean(path, what):
    p = run('qemu-img', 'check', path, check=False)
    expect(p.returncode == 0 and 'No errors were found' in p.stdout,
           '%s: qemu-img check clean (%s)' % (what, (p.stdout + p.stderr).strip()[:200]))


INFO_KEYS = ['virtual-size', 'format', 'cluster-size', 'actual-size', 'backing-filename',
             'backing-filename-format', 'full-backing-filename', 'dirty-flag']
FS_KEYS = ['compat', 'compression-type', 'lazy-refcounts', 'refcount-bits', 'corrupt',
           'extended-l2']


def same_info(ours, theirs, what):
    for k in INFO_KEYS:
        expect(ours.get(k) == theirs.get(k),
               '%s: info %s ours=%r qemu=%r' % (what, k, ours.get(k), theirs.get(k)))
    od = ours.get('format-specific', {}).get('data', {})
    td = theirs.get('format-specific', {}).get('data', {})
    for k in FS_KEYS:
        expect(od.get(k) == td.get(k), '%s: info %s ours=%r qemu=%r' % (what, k, od.get(k), td.get(k)))


def test_create(d):
    for size, opts, cs in [('1G', [], 65536), ('10G', [], 65536), ('10G', ['-o', 'cluster_size=512'], 512),
                           ('100G', ['-o', 'cluster_size=2M'], 2 << 20), ('3M', ['-o', 'cluster_size=4K'], 4096),
                           ('1000000', [], 65536)]:
        f = os.path.join(d, 'c-%s-%d.qcow2' % (size, cs))
        lq('create', '-f', 'qcow2', *opts, f, size)
        qcheck_clean(f, 'create %s cs=%d' % (size, cs))
        i = qinfo(f)
        want = int(size[:-1]) << {'G': 30, 'M': 20}[size[-1]] if size[-1] in 'GM' else (int(size) + 511) // 512 * 512
        expect(i['virtual-size'] == want and i['format'] == 'qcow2' and i['cluster-size'] == cs,
               'create %s cs=%d: qemu-img info size/format/cluster (%r)' % (size, cs, i))
        expect(i['format-specific']['data']['compat'] == '1.1', 'create %s: version 3' % size)
    # Data written by qemu into an image we made: still clean, reads back.
    f = os.path.join(d, 'c-1G-65536.qcow2')
    run('qemu-io', '-c', 'write -P 0xab 0 1M', '-c', 'write -z 4M 128k', '-c', 'write -P 0x12 900M 64k', f)
    qcheck_clean(f, 'create + qemu-io writes')
    p = run('qemu-io', '-c', 'read -P 0xab 0 1M', '-c', 'read -P 0x12 900M 64k', f, check=False)
    expect(p.returncode == 0 and 'Pattern verification failed' not in p.stdout, 'create: data reads back')
    # Raw: sparse, exact size.
    r = os.path.join(d, 'c.raw')
    lq('create', '-f', 'raw', r, '64M')
    st = os.stat(r)
    expect(st.st_size == 64 << 20 and st.st_blocks == 0, 'create raw: sparse 64M file')
    expect(qinfo(r)['format'] == 'raw', 'create raw: qemu-img sees raw')
    # Default format is raw.
    r2 = os.path.join(d, 'c2.img')
    lq('create', r2, '1M')
    expect(os.path.getsize(r2) == 1 << 20, 'create default raw')


def test_create_backing(d):
    base = os.path.join(d, 'base.raw')
    run('qemu-img', 'create', '-f', 'raw', base, '7M')
    run('qemu-io', '-f', 'raw', '-c', 'write -P 0x77 1M 1M', base)
    ov = os.path.join(d, 'ov1.qcow2')
    lq('create', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', ov)
    qcheck_clean(ov, 'create -b raw')
    i = qinfo(ov)
    expect(i['virtual-size'] == 7 << 20, 'create -b: size from backing (%r)' % i['virtual-size'])
    expect(i.get('backing-filename') == 'base.raw' and i.get('backing-filename-format') == 'raw',
           'create -b: backing name and format (%r)' % i)
    run('qemu-io', '-c', 'write -P 0x99 0 64k', ov)
    qcheck_clean(ov, 'create -b + write')
    p = run('qemu-io', '-c', 'read -P 0x77 1M 1M', '-c', 'read -P 0x99 0 64k', ov, check=False)
    expect('Pattern verification failed' not in p.stdout, 'create -b: backing data visible')
    # qcow2 backing, format probed, explicit larger size.
    ov2 = os.path.join(d, 'ov2.qcow2')
    lq('create', '-f', 'qcow2', '-b', 'ov1.qcow2', ov2, '20M')
    qcheck_clean(ov2, 'create -b qcow2')
    i = qinfo(ov2)
    expect(i['virtual-size'] == 20 << 20 and i.get('backing-filename-format') == 'qcow2',
           'create -b qcow2: size and probed format (%r)' % i)
    chain = qinfo(ov2, chain=True)
    expect([c['format'] for c in chain] == ['qcow2', 'qcow2', 'raw'], 'create -b: chain of three')
    # Backing name relative to the image's directory, from another cwd.
    sub = os.path.join(d, 'sub')
    os.mkdir(sub)
    shutil.copy(base, os.path.join(sub, 'b.raw'))
    ov3 = os.path.join(sub, 'ov3.qcow2')
    lq('create', '-f', 'qcow2', '-b', 'b.raw', '-F', 'raw', ov3)
    expect(qinfo(ov3)['virtual-size'] == 7 << 20, 'create -b: relative name resolved next to the image')
    # Refuse to overwrite; --force does.
    before = open(ov, 'rb').read()
    p = lq('create', '-f', 'qcow2', ov, '1G', check=False)
    expect(p.returncode != 0 and 'already exists' in p.stderr and open(ov, 'rb').read() == before,
           'create refuses to overwrite (%s)' % p.stderr.strip())
    lq('create', '-f', 'qcow2', '--force', ov, '1G')
    expect(qinfo(ov)['virtual-size'] == 1 << 30, 'create --force overwrites')
    before = open(ov, 'rb').read()
    p = lq('create', '-f', 'qcow2', '--force', '-o', 'cluster_size=512', ov, '1P', check=False)
    expect(p.returncode != 0 and open(ov, 'rb').read() == before,
           'create --force that fails keeps the old image (%s)' % p.stderr.strip())
    expect(not [n for n in os.listdir(d) if '.lq-img-' in n], 'create leaves no temporary file')
    p = lq('create', '-f', 'qcow2', '-b', 'missing.raw', os.path.join(d, 'x.qcow2'), check=False)
    expect(p.returncode != 0 and 'missing.raw' in p.stderr and not os.path.exists(os.path.join(d, 'x.qcow2')),
           'create -b missing: error, no file (%s)' % p.stderr.strip())


def qemu_images(d):
    """Images made by qemu-img / qemu-io, name -> path."""
    imgs = {}
    base = os.path.join(d, 'q-base.raw')
    run('qemu-img', 'create', '-f', 'raw', base, '4M')
    run('qemu-io', '-f', 'raw', '-c', 'write -P 0x11 1M 64k', '-c', 'write -P 0x22 3M 4k', base)
    imgs['raw'] = base
    ov = os.path.join(d, 'q-ov.qcow2')
    run('qemu-img', 'create', '-f', 'qcow2', '-b', 'q-base.raw', '-F', 'raw', ov)
    run('qemu-io', '-c', 'write -P 0xab 0 1M', '-c', 'write -z 2M 128k', '-c', 'write -z 1M 64k', ov)
    imgs['overlay'] = ov
    top = os.path.join(d, 'q-top.qcow2')
    run('qemu-img', 'create', '-f', 'qcow2', '-b', 'q-ov.qcow2', '-F', 'qcow2', '-o', 'cluster_size=4k', top, '6M')
    run('qemu-io', '-c', 'write -P 0xcd 512k 8k', '-c', 'write -P 0xce 5M 4k', '-c', 'discard 0 4k', top)
    imgs['top'] = top
    src = os.path.join(d, 'q-src.raw')
    run('qemu-img', 'create', '-f', 'raw', src, '8M')
    run('qemu-io', '-f', 'raw', '-c', 'write -P 0x5a 0 3M', '-c', 'write -P 0x33 5M 100k', src)
    for name, opts in [('zlib', ['-c']), ('zstd', ['-c', '-o', 'compression_type=zstd']),
                       ('v2', ['-o', 'compat=0.10']), ('rc1', ['-o', 'refcount_bits=1,cluster_size=4k']),
                       ('c512', ['-o', 'cluster_size=512'])]:
        p = os.path.join(d, 'q-%s.qcow2' % name)
        run('qemu-img', 'convert', '-O', 'qcow2', *opts, src, p)
        imgs[name] = p
    empty = os.path.join(d, 'q-empty.qcow2')
    run('qemu-img', 'create', '-f', 'qcow2', empty, '256M')
    imgs['empty'] = empty
    pre = os.path.join(d, 'q-prealloc.qcow2')
    run('qemu-img', 'create', '-f', 'qcow2', '-o', 'preallocation=metadata', pre, '2M')
    imgs['prealloc'] = pre
    short = os.path.join(d, 'q-short.qcow2')
    run('qemu-img', 'create', '-f', 'qcow2', '-b', 'q-base.raw', '-F', 'raw', short, '9M')
    imgs['short-backing'] = short
    return imgs


def test_info_map(imgs):
    for name, path in imgs.items():
        ours = json.loads(lq('info', '--json', path).stdout)
        same_info(ours, qinfo(path), 'info ' + name)
        oc = json.loads(lq('info', '--json', '--backing-chain', path).stdout)
        qc = qinfo(path, chain=True)
        expect(len(oc) == len(qc), 'info --backing-chain %s: %d images' % (name, len(qc)))
        for k, (a, b) in enumerate(zip(oc, qc)):
            same_info(a, b, 'info --backing-chain %s[%d]' % (name, k))
        if len(qc) > 1:
            below = [(c['filename'], c['format']) for c in ours.get('backing-chain', [])]
            expect(below == [(c['filename'], c['format']) for c in qc[1:]],
                   'info --json %s: backing-chain array names the images below' % name)
        h = lq('info', path).stdout
        expect('virtual size: %d bytes' % qinfo(path)['virtual-size'] in h, 'info (human) %s: size' % name)
        om = lq('map', '--json', path).stdout
        qm = run('qemu-img', 'map', '--output=json', path).stdout
        expect(om == qm, 'map --json %s matches qemu-img\nours:\n%sqemu:\n%s' % (name, om, qm))
        om = lq('map', path).stdout
        q = run('qemu-img', 'map', path, check=False)
        if q.returncode != 0:  # qemu-img's human map refuses compressed clusters
            continue
        qm = q.stdout
        expect(om == qm, 'map (human) %s matches qemu-img\nours:\n%sqemu:\n%s' % (name, om, qm))


def poke(path, off, data):
    with open(path, 'r+b') as f:
        f.seek(off)
        f.write(data)


def refblock0(path):
    with open(path, 'rb') as f:
        h = f.read(104)
        rt = struct.unpack('>Q', h[48:56])[0]
        f.seek(rt)
        return struct.unpack('>Q', f.read(8))[0]


def l1_entry0(path):
    with open(path, 'rb') as f:
        h = f.read(48)
        f.seek(struct.unpack('>Q', h[40:48])[0])
        return struct.unpack('>Q', f.read(8))[0] & 0x00fffffffffffe00


def test_check(d, imgs):
    for name in ['overlay', 'top', 'zlib', 'zstd', 'v2', 'rc1', 'c512', 'empty', 'prealloc']:
        p = lq('check', imgs[name], check=False)
        expect(p.returncode == 0 and 'No errors' in p.stdout, 'check %s clean (%s)' % (name, p.stdout.strip()))
    src = imgs['overlay']
    # A leak: the header cluster's refcount raised to 2.
    leak = os.path.join(d, 'k-leak.qcow2')
    shutil.copy(src, leak)
    poke(leak, refblock0(leak), struct.pack('>H', 2))
    q = run('qemu-img', 'check', leak, check=False).returncode
    p = lq('check', leak, check=False)
    expect(p.returncode == 3 and q == 3 and 'Leaked cluster 0' in p.stdout,
           'check leak: exit 3 like qemu-img (%d, %d)' % (p.returncode, q))
    # A leak past everything in use: a refcount on a cluster nothing references.
    leak2 = os.path.join(d, 'k-leak2.qcow2')
    shutil.copy(src, leak2)
    with open(leak2, 'ab') as f:
        f.write(b'\0' * 65536)
    n = os.path.getsize(leak2) // 65536 - 1
    poke(leak2, refblock0(leak2) + 2 * n, struct.pack('>H', 1))
    q = run('qemu-img', 'check', leak2, check=False).returncode
    p = lq('check', leak2, check=False)
    expect(p.returncode == 3 and q == 3 and ('Leaked cluster %d ' % n) in p.stdout,
           'check appended leak: exit 3 like qemu-img (%d, %d)' % (p.returncode, q))
    p = lq('check', '--repair', leak2, check=False)
    expect(p.returncode == 0, 'check --repair fixes leaks (%s)' % p.stdout.strip())
    qcheck_clean(leak2, 'check --repair')
    p = lq('check', leak2, check=False)
    expect(p.returncode == 0, 'check after --repair clean')
    # Corruption: the L2 table's refcount set to 0.
    bad = os.path.join(d, 'k-bad.qcow2')
    shutil.copy(src, bad)
    l2 = l1_entry0(bad)
    poke(bad, refblock0(bad) + 2 * (l2 // 65536), struct.pack('>H', 0))
    q = run('qemu-img', 'check', bad, check=False).returncode
    p = lq('check', bad, check=False)
    expect(p.returncode == 2 and q == 2 and ('ERROR cluster %d refcount=0 reference=1' % (l2 // 65536)) in p.stdout,
           'check refcount 0 on a used cluster: exit 2 like qemu-img (%d, %d): %s' % (p.returncode, q, p.stdout.strip()))
    # Corruption: an L2 entry pointing past the end of the file.
    out = os.path.join(d, 'k-out.qcow2')
    shutil.copy(src, out)
    poke(out, l1_entry0(out), struct.pack('>Q', (1 << 63) | (1 << 40)))
    q = run('qemu-img', 'check', out, check=False).returncode
    p = lq('check', out, check=False)
    expect(p.returncode == 2 and q == 2, 'check L2 entry outside the file: exit 2 like qemu-img (%d, %d): %s'
           % (p.returncode, q, (p.stdout + p.stderr).strip()[:300]))
    # Corruption: the L1 entry's COPIED flag cleared (refcount is 1).
    cp = os.path.join(d, 'k-copied.qcow2')
    shutil.copy(src, cp)
    poke(cp, struct.unpack('>Q', open(cp, 'rb').read(48)[40:48])[0], struct.pack('>Q', l1_entry0(cp)))
    q = run('qemu-img', 'check', cp, check=False).returncode
    p = lq('check', cp, check=False)
    expect(p.returncode == 2 and q == 2 and 'OFLAG_COPIED' in p.stdout,
           'check COPIED flag cleared: exit 2 like qemu-img (%d, %d): %s' % (p.returncode, q, p.stdout.strip()))
    p = lq('map', out, check=False)
    expect(p.returncode == 1 and ('outside' in p.stderr or 'out-of-file' in p.stderr),
           'map over an L2 entry outside the file: clear error (%s)' % p.stderr.strip()[:200])
    p = lq('convert', out, os.path.join(d, 'k-out.raw'), check=False)
    expect(p.returncode == 1 and not os.path.exists(os.path.join(d, 'k-out.raw')),
           'convert of a corrupt image: error, no half-written output (%s)' % p.stderr.strip()[-200:])
    p = lq('check', imgs['raw'], check=False)
    expect(p.returncode == 1 and 'raw' in p.stderr, 'check raw: clear refusal')


def test_convert(d, imgs):
    for name, path in imgs.items():
        ours = os.path.join(d, 'v-%s.raw' % name)
        theirs = os.path.join(d, 'v-%s.qemu.raw' % name)
        lq('convert', '-O', 'raw', path, ours)
        run('qemu-img', 'convert', '-O', 'raw', path, theirs)
        expect(run('cmp', ours, theirs, check=False).returncode == 0, 'convert %s -O raw: byte-identical' % name)
        q = os.path.join(d, 'v-%s.qcow2' % name)
        lq('convert', '-O', 'qcow2', path, q)
        qcheck_clean(q, 'convert %s -O qcow2' % name)
        p = run('qemu-img', 'compare', '-f', 'raw', '-F', 'qcow2', theirs, q, check=False)
        expect(p.returncode == 0, 'convert %s -O qcow2: same content (%s)' % (name, p.stdout.strip()))
        os.unlink(ours)
        os.unlink(theirs)
    big = os.path.join(d, 'v-empty.qcow2')
    expect(os.stat(big).st_blocks * 512 < 1 << 20, 'convert -O qcow2 of an empty 256M disk stays thin')
    p = lq('convert', '-p', '-O', 'qcow2', imgs['overlay'], os.path.join(d, 'v-p.qcow2'))
    expect('100.00/100%' in p.stderr, 'convert -p: progress on stderr')
    # On a terminal the progress bar comes without -p.
    master, slave = pty.openpty()
    p = subprocess.run([LQ, 'convert', '-O', 'qcow2', imgs['overlay'], os.path.join(d, 'v-tty.qcow2')],
                       stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    tty_out = b''
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        tty_out += chunk
    os.close(master)
    expect(p.returncode == 0 and b'100.00/100%' in tty_out, 'convert: progress bar on a tty stderr')
    p = lq('convert', '-O', 'qcow2', imgs['overlay'], os.path.join(d, 'v-notty.qcow2'))
    expect('/100%' not in p.stderr, 'convert: no progress bar into a pipe without -p')
    p = lq('convert', imgs['overlay'], imgs['overlay'], check=False)
    expect(p.returncode == 1 and 'backing files' in p.stderr, 'convert onto its own source: refused')
    p = lq('convert', imgs['top'], imgs['raw'], check=False)
    expect(p.returncode == 1 and 'backing files' in p.stderr and os.path.getsize(imgs['raw']) == 4 << 20,
           'convert onto a backing file of the source: refused')
    p = lq('convert', os.path.join(d, 'nothere'), os.path.join(d, 'x.raw'), check=False)
    expect(p.returncode != 0 and 'nothere' in p.stderr, 'convert missing source: error')


def test_huge(d):
    """A 100 TiB disk with one cluster of data: metadata walks skip empty
    L2 ranges, convert skips what the metadata says is zeros."""
    f = os.path.join(d, 'huge.qcow2')
    lq('create', '-f', 'qcow2', f, '100T')
    run('qemu-io', '-c', 'write -P 0x3c 50T 64k', '-c', 'write -z 70T 1M', f)
    qcheck_clean(f, 'huge')
    expect(lq('map', '--json', f).stdout == run('qemu-img', 'map', '--output=json', f).stdout,
           'huge: map --json matches qemu-img')
    same_info(json.loads(lq('info', '--json', f).stdout), qinfo(f), 'huge')
    expect(lq('check', f, check=False).returncode == 0, 'huge: lq-img check clean')
    g = os.path.join(d, 'huge2.qcow2')
    lq('convert', '-O', 'qcow2', f, g)
    qcheck_clean(g, 'huge: convert -O qcow2')
    p = run('qemu-img', 'compare', f, g, check=False)
    expect(p.returncode == 0 and os.stat(g).st_blocks * 512 < 8 << 20,
           'huge: convert -O qcow2 identical and thin (%s)' % p.stdout.strip())


def test_resize(d):
    f = os.path.join(d, 'z.qcow2')
    lq('create', '-f', 'qcow2', f, '1M')
    run('qemu-io', '-c', 'write -P 0xcd 0 512k', f)
    lq('resize', f, '3G')
    qcheck_clean(f, 'resize 1M -> 3G')
    expect(qinfo(f)['virtual-size'] == 3 << 30, 'resize: qemu-img sees 3G')
    expect(json.loads(lq('info', '--json', f).stdout)['virtual-size'] == 3 << 30, 'resize: lq-img info sees 3G')
    p = run('qemu-io', '-c', 'read -P 0xcd 0 512k', '-c', 'write -P 0xee 2G 64k', '-c', 'read -P 0xee 2G 64k', f)
    expect('Pattern verification failed' not in p.stdout, 'resize: old data kept, new range writable')
    qcheck_clean(f, 'resize + write past old end')
    # 512-byte clusters: the L1 table moves to new clusters.
    g = os.path.join(d, 'z512.qcow2')
    lq('create', '-f', 'qcow2', '-o', 'cluster_size=512', g, '1M')
    run('qemu-io', '-c', 'write -P 0xcd 0 4k', g)
    old_l1 = struct.unpack('>Q', open(g, 'rb').read(48)[40:48])[0]
    lq('resize', g, '1G')
    new_l1 = struct.unpack('>Q', open(g, 'rb').read(48)[40:48])[0]
    expect(new_l1 != old_l1, 'resize cluster_size=512 to 1G: L1 table moved')
    qcheck_clean(g, 'resize with L1 move')
    p = run('qemu-io', '-c', 'read -P 0xcd 0 4k', '-c', 'write -P 1 1000M 4k', g)
    expect('Pattern verification failed' not in p.stdout, 'resize with L1 move: data kept')
    qcheck_clean(g, 'resize with L1 move + write')
    expect(lq('check', g, check=False).returncode == 0, 'resize with L1 move: lq-img check clean')
    p = lq('resize', g, '1M', check=False)
    expect(p.returncode != 0 and 'shrink' in p.stderr, 'resize refuses to shrink')
    r = os.path.join(d, 'z.raw')
    lq('create', r, '1M')
    lq('resize', r, '5M')
    expect(os.path.getsize(r) == 5 << 20, 'resize raw grows the file')


def test_bad_input(d):
    def bad(args, needle, what):
        p = lq(*args, check=False)
        expect(p.returncode != 0 and p.returncode < 128 and needle.lower() in p.stderr.lower(),
               'bad input %s: exit %d, stderr mentions %r (%s)' % (what, p.returncode, needle, p.stderr.strip()[:200]))
    good = os.path.join(d, 'h.qcow2')
    lq('create', '-f', 'qcow2', good, '1G')
    for what, off, data, needle in [('bad version', 4, struct.pack('>I', 9), 'version'),
                                    ('cluster_bits 40', 20, struct.pack('>I', 40), 'cluster_bits'),
                                    ('L1 past the end', 40, struct.pack('>Q', 1 << 50), 'L1'),
                                    ('huge size', 24, struct.pack('>Q', 1 << 62), 'too large')]:
        f = os.path.join(d, 'h-%s.qcow2' % what.replace(' ', '-'))
        shutil.copy(good, f)
        poke(f, off, data)
        for cmd in ['info', 'map', 'check']:
            bad([cmd, f], needle, '%s on %s' % (cmd, what))
    t = os.path.join(d, 'h-trunc.qcow2')
    with open(t, 'wb') as f:
        f.write(b'QFI\xfb\0\0\0\3')
    bad(['info', t], 'truncated', 'truncated header')
    bad(['info', os.path.join(d, 'missing')], 'No such file', 'missing file')
    bad(['create', '-f', 'qcow2', os.path.join(d, 'n.qcow2'), '0'], 'size', 'size 0')
    bad(['create', '-f', 'vmdk', os.path.join(d, 'n.qcow2'), '1G'], 'unknown format', 'unknown format')
    bad(['create', '-f', 'qcow2', os.path.join(d, 'n.qcow2'), '12Q'], 'invalid size', 'bad size suffix')
    bad(['create', '-f', 'qcow2', os.path.join(d, 'n.qcow2')], 'missing SIZE', 'no size')
    bad(['create', '-f', 'qcow2', '-o', 'cluster_size=1000', os.path.join(d, 'n.qcow2'), '1G'], 'cluster_size',
        'bad cluster size')
    bad(['create', '-f', 'qcow2', '-o', 'cluster_size=512', os.path.join(d, 'n.qcow2'), '1P'], 'too large',
        'size too large for the cluster size')
    bad(['convert', '-O', 'vmdk', good, os.path.join(d, 'n.raw')], 'unknown output format', 'convert -O vmdk')
    bad(['resize', good, 'abc'], 'invalid size', 'resize bad size')
    bad(['frobnicate'], 'unknown command', 'unknown command')
    expect(not os.path.exists(os.path.join(d, 'n.qcow2')), 'bad input leaves no file behind')
    # A backing chain that loops back on itself.
    a = os.path.join(d, 'loop-a.qcow2')
    b = os.path.join(d, 'loop-b.qcow2')
    run('qemu-img', 'create', '-f', 'qcow2', a, '1M')
    run('qemu-img', 'create', '-f', 'qcow2', '-b', 'loop-a.qcow2', '-F', 'qcow2', b, '1M')
    run('qemu-img', 'rebase', '-u', '-b', 'loop-b.qcow2', '-F', 'qcow2', a)
    bad(['info', a], 'loop', 'backing chain loop')


def test_mutations(d, imgs):
    """Random bytes in the metadata of real images: every command ends,
    with an exit code of its own (no signal), within the time limit."""
    import random
    rnd = random.Random(5)
    for k in range(int(os.environ.get("LQIMG_MUTATIONS", "120"))):
        name = rnd.choice(['overlay', 'zlib', 'rc1', 'c512', 'top'])
        src = imgs[name]
        f = os.path.join(d, 'm-%d.qcow2' % k)
        data = bytearray(open(src, 'rb').read())
        meta_end = min(len(data), 6 * 65536)
        for _ in range(rnd.randint(1, 8)):
            at = rnd.randrange(0, 112) if rnd.random() < 0.4 else rnd.randrange(0, meta_end)
            data[at] = rnd.randrange(256)
        open(f, 'wb').write(bytes(data))
        for cmd in (['info', '--json', f], ['map', '--json', f], ['check', f],
                    ['convert', f, os.path.join(d, 'm.raw')]):
            try:
                p = subprocess.run([LQ] + cmd, capture_output=True, timeout=20)
                ok = 0 <= p.returncode < 128
                msg = 'exit %d' % p.returncode
            except subprocess.TimeoutExpired:
                ok, msg = False, 'timeout'
            if not ok:
                expect(False, 'mutated %s (#%d): %s %s' % (name, k, cmd[0], msg))
        os.unlink(f)
    expect(True, 'mutated images: no crash, no hang')


def main():
    global LQ, VERBOSE
    ap = argparse.ArgumentParser()
    ap.add_argument('--lq-img', required=True)
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()
    LQ = os.path.abspath(args.lq_img)
    VERBOSE = args.verbose
    if not shutil.which('qemu-img') or not shutil.which('qemu-io'):
        print('SKIP: qemu-img/qemu-io not installed (Debian package qemu-utils)')
        return 77
    with tempfile.TemporaryDirectory(prefix='lqimg-') as d:
        test_create(d)
        test_create_backing(d)
        imgs = qemu_images(d)
        test_info_map(imgs)
        test_check(d, imgs)
        test_mutations(d, imgs)
        test_convert(d, imgs)
        test_huge(d)
        test_resize(d)
        test_bad_input(d)
    print('%d passed, %d failed' % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
