# A second, independent .etr v1 reader, written from docs/trace-format.md
# alone to check that the specification is complete. It prints the events
# as `edgeprof trace cat --json` does, so the two can be compared:
#
#   python3 docs/etr_reference_reader.py t.etr > py.jsonl
#   edgeprof trace cat --json t.etr > go.jsonl && cmp py.jsonl go.jsonl
#
# It checks CRCs and structure with asserts and needs a complete (closed)
# trace; it is a reference, not a tool.
import struct, sys, json
try:
    import crc32c as _c
    crc = _c.crc32c
except ImportError:
    T=[]
    for i in range(256):
        c=i
        for _ in range(8): c = (c>>1)^0x82F63B78 if c&1 else c>>1
        T.append(c)
    def crc(b, c=0):
        c ^= 0xFFFFFFFF
        for x in b: c = T[(c^x)&0xFF]^(c>>8)
        return c ^ 0xFFFFFFFF
def uv(b,i):
    v=s=0
    while True:
        x=b[i]; i+=1; v|=(x&0x7f)<<s; s+=7
        if x<0x80: return v,i
def sv(b,i):
    z,i=uv(b,i); return (z>>1)^-(z&1), i
def st(b,i):
    n,i=uv(b,i); return b[i:i+n].decode(), i+n
data=open(sys.argv[1],'rb').read()
assert data[:8]==b'\x89ETR\r\n\x1a\n'
ver,flags,blen=struct.unpack_from('<HHI',data,8)
assert ver==1 and flags==0
assert crc(data[:16+blen])==struct.unpack_from('<I',data,16+blen)[0]
b=data[16:16+blen]; i=0
hdr={}
for k in ['ver','model','sha']: hdr[k],i=st(b,i)
hdr['size'],i=uv(b,i)
n,i=uv(b,i); sets={}
for _ in range(n):
    k,i=st(b,i); v,i=st(b,i); sets[k]=v
n,i=uv(b,i); tensors=[]
for _ in range(n):
    name,i=st(b,i); typ,i=st(b,i); nd,i=uv(b,i); dims=[]
    for _ in range(nd):
        d,i=uv(b,i); dims.append(d)
    off,i=uv(b,i); sz,i=uv(b,i); tensors.append((name,off,sz))
assert i==len(b)
H=16+blen+4
foff,mag=struct.unpack_from('<Q8s',data,len(data)-16)
assert mag==b'\x89END\r\n\x1a\n'
fl,nb,tot=struct.unpack_from('<IIQ',data,foff+1)
assert crc(data[foff:len(data)-20])==struct.unpack_from('<I',data,len(data)-20)[0]
M64=(1<<64)-1; M32=(1<<32)-1; M16=(1<<16)-1
OPS="embed attn_norm attn_q attn_k attn_v attn_out kv_read kv_write ffn_norm ffn_gate ffn_up ffn_down out_norm lm_head predictor activation other".split()
NUM=('addr','size','token','lo','hi','tensor','layer')  # the fields periods extrapolate
W={'addr':M64,'size':M32,'token':M32,'lo':M32,'hi':M32,'tensor':M16,'layer':M16}
def wrap(k,v):
    v&=W[k]
    return v-65536 if k=='layer' and v>=32768 else v
def same_stream(a,b):
    return all(a[k]==b[k] for k in ('tensor','op','kind','thread','layer'))
def region(addr):
    return min(addr>>40,4)
out=[]
for bi in range(nb):
    off,ev,ft,mn,mx=struct.unpack_from('<QIIII',data,foff+17+24*bi)
    tag,plen,events,f2,m2,x2,c=struct.unpack_from('<BIIIIII',data,off)
    assert tag==0x42 and events==ev
    p=data[off+25:off+25+plen]
    assert crc(data[off:off+21]+p)==c
    Z=dict(addr=0,size=0,token=0,lo=0,hi=0,tensor=0,layer=0,thread=0,op=0,kind=0,phase=0)
    # slot: [ev, stride, nstride, tstride]; order[k] = slot at MRU position k
    slots=[[dict(Z),0,0,0] for _ in range(12)]; order=list(range(12))
    # period register: None or [d, origin, deltas by class]
    regs=[None,None]
    blk=[]  # the block's events so far
    def pred_slot(k):
        s=slots[order[k]]; e=dict(s[0])
        e['addr']=(e['addr']+s[1])&M64; e['lo']=(e['lo']+s[2])&M32; e['hi']=(e['hi']+s[2])&M32; e['token']=(e['token']+s[3])&M32
        return e
    def fork(e):
        ph=order[11]; slots[ph]=[dict(e),e['size'],(e['hi']-e['lo'])&M32,0]; order[1:]=order[:11]; order[0]=ph
    def upd_slot(k,e):
        ph=order[k]; s=slots[ph]
        if not same_stream(e,s[0]): fork(e); return
        s[1]=(e['addr']-s[0]['addr'])&M64; s[2]=(e['lo']-s[0]['lo'])&M32; s[3]=(e['token']-s[0]['token'])&M32; s[0]=dict(e)
        del order[k]; order.insert(0,ph)
    def pred_period(r):
        d,o,delta=regs[r]; n=len(blk); a=blk[n-d]; e=dict(a)
        if n-2*d>=o:
            b=blk[n-2*d]
            for k in NUM: e[k]=wrap(k,2*a[k]-b[k])
        else:
            dl=delta[3*region(a['addr'])+a['kind']]
            for k in NUM: e[k]=wrap(k,a[k]+dl[k])
        return e
    def learn(r,e):
        d,o,delta=regs[r]; n=len(blk); a=blk[n-d]
        if n-2*d<o:
            delta[3*region(a['addr'])+a['kind']]={k:e[k]-a[k] for k in NUM}
    def predict(s):
        return pred_slot(s) if s<12 else pred_period(s-12)
    def valid(e):
        assert e['size']>=1 and (e['tensor']==0xFFFF or e['tensor']<len(tensors)) and e['op']<=16 and e['kind']<=2, e
    j=0
    while len(blk)<events:
        h=p[j]; j+=1; s=h&15
        if s==15:  # control record: set a period register
            assert h&0xC0==0
            d,j=uv(p,j); assert 1<=d<=len(blk)
            regs[(h>>4)&1]=[d,len(blk)-d,[dict(addr=0,size=0,token=(h>>5)&1,lo=0,hi=0,tensor=0,layer=0) for _ in range(15)]]
            continue
        if s==14:  # address run of (h>>4)+1 entries: slot position, address correction
            for _ in range((h>>4)+1):
                z,j=uv(p,j); k=z&3; y=z>>2
                e=pred_slot(k); e['addr']=(e['addr']+((y>>1)^-(y&1)))&M64
                valid(e); upd_slot(k,e); blk.append(e)
            continue
        assert s<12 or regs[s-12] is not None
        e=predict(s); m=0
        if h&0x20: m=p[j]; j+=1; assert s<12 or m<0x80  # the fork bit needs a slot source
        if h&0x10: d,j=sv(p,j); e['addr']=(e['addr']+d)&M64
        if m&1: e['size'],j=uv(p,j)
        if m&2: d,j=sv(p,j); e['token']=(e['token']+d)&M32
        if m&4: d,j=sv(p,j); e['tensor']=(e['tensor']+d)&M16
        if m&8: d,j=sv(p,j); e['layer']=wrap('layer',e['layer']+d)
        if m&16: x=p[j]; j+=1; e['op'],e['kind'],e['phase']=x&31,(x>>5)&3,x>>7
        if m&32: e['thread']=p[j]; j+=1
        if m&64:
            d,j=sv(p,j); e['lo']=(e['lo']+d)&M32; d,j=sv(p,j); e['hi']=(e['hi']+d)&M32
        r=h>>6
        if r==3: c,j=uv(p,j); r=c+3
        valid(e)
        if s<12 and m&0x80: fork(e); s=0  # a new stream; the repeats continue it
        elif s<12: upd_slot(s,e)
        elif h&0x30: learn(s-12,e); fork(e)
        blk.append(e)
        for _ in range(r):
            e=predict(s); valid(e)
            if s<12: upd_slot(s,e)
            blk.append(e)
    assert len(blk)==events and j==len(p), (len(blk),events,j,len(p))
    toks=[e['token'] for e in blk]
    assert (toks[0],min(toks),max(toks))==(ft,mn,mx)
    out+=blk
for e in out:
    o={"token":e['token'],"phase":["prompt","decode"][e['phase']],"thread":e['thread'],"layer":e['layer'],"op":OPS[e['op']],"kind":["read","write","prefetch"][e['kind']],"addr":e['addr'],"size":e['size']}
    if e['tensor']<len(tensors): o["tensor"]=tensors[e['tensor']][0]
    if e['hi']>e['lo']: o["neuron_lo"]=e['lo']; o["neuron_hi"]=e['hi']
    print(json.dumps(o,separators=(',',':')))
