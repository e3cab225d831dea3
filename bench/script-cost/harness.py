#!/usr/bin/env python3
"""Redis CPU per one-token append of a checkpoint script, Redis alone: pipelined EVALSHA calls of JOBS jobs x one
chunk each (in flight: 50 calls), CPU from INFO cpu, per-command time from INFO commandstats. FLUSHALLs the server.
  redis-server --port 6399 --save '' --appendonly no --daemonize yes
  python3 bench/script-cost/harness.py 6399 checkpoint-store/src/main/resources/io/tokenbus/checkpoint/append.lua 16 20000
  python3 bench/script-cost/harness.py 6399 bench/script-cost/three-calls.lua 16 20000   (or no-calls.lua)
Arguments: PORT SCRIPT JOBS_PER_CALL CALLS. Only for comparing scripts within one run of the same machine."""
import socket,sys,time
port,script,J,calls=int(sys.argv[1]),sys.argv[2],int(sys.argv[3]),int(sys.argv[4])
s=socket.create_connection(('127.0.0.1',port))
def enc(*a):
    out=[b'*%d\r\n'%len(a)]
    for x in a:
        x=x if isinstance(x,bytes) else str(x).encode()
        out.append(b'$%d\r\n%s\r\n'%(len(x),x))
    return b''.join(out)
def call(*a):
    s.sendall(enc(*a)); return s.recv(1<<20)
call('FLUSHALL')
src=open(script).read()
sha=call('SCRIPT','LOAD',src).split(b'\r\n')[1].decode()
NJ=J*8
# open jobs: meta hash state running last 0 epoch 1
pipe=b''.join(enc('HSET','tb:{j%d}:meta'%j,'state','running','last',0,'epoch',1) for j in range(NJ))
s.sendall(pipe); time.sleep(0.5); s.recv(1<<22)
chunk='{"type":"model:chunk","jobId":"%s","sequence":%d,"content":" tokenword","metadata":{"tokens_per_sec":20.0}}'
def info():
    r=call('INFO','cpu').decode()
    d=dict(l.split(':') for l in r.split('\r\n') if ':' in l)
    return float(d['used_cpu_sys'])+float(d['used_cpu_user'])
call('CONFIG','RESETSTAT')
seq=[0]*NJ
c0=info(); t0=time.time()
sent=0; g=0
BATCH=50
for b in range(calls//BATCH):
    out=[]
    for k in range(BATCH):
        grp=g%8; g+=1
        keys=[];argv=['600000']
        for jj in range(J):
            j=grp*J+jj; seq[j]+=1
            keys+=['tb:{j%d}:meta'%j,'tb:{j%d}:log'%j]
            argv+=[seq[j],'','',1,1,chunk%('j%d'%j,seq[j])]
        out.append(enc('EVALSHA',sha,len(keys),*keys,*argv))
    s.sendall(b''.join(out))
    # wait for BATCH replies: each reply is a bulk string "$len\r\n...\r\n" -> read until we've seen BATCH '$'
    data=b''
    while data.count(b'$')<BATCH or not data.endswith(b'\r\n'):
        data+=s.recv(1<<20)
    if b'-ERR' in data or b'error' in data: print(data[:300]); sys.exit(1)
    sent+=BATCH
c1=info(); t1=time.time()
tokens=sent*J
stats=call('INFO','commandstats').decode()
print('J=%d tokens=%d redis_cpu_us_per_token=%.2f wall=%.2fs'%(J,tokens,(c1-c0)*1e6/tokens,t1-t0))
for l in stats.split('\r\n'):
    if l.startswith('cmdstat_'):
        name,rest=l.split(':'); d=dict(x.split('=') for x in rest.split(','))
        if int(d['calls'])>100: print('  %-18s calls=%8s us/token=%.2f'%(name,d['calls'],float(d['usec'])/tokens))
