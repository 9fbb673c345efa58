// The node side of bench/firmware_ram.py: runs one scenario under the official MicroPython
// WebAssembly port with a given heap, plays the provisioning client (node's own crypto, so
// none of the client's memory is in the measured heap), and reports heap figures.
//   node bench/firmware_ram.mjs JOB.json      (JOB written by firmware_ram.py)
// Output: lines "@@RAM {json}"; the firmware's own prints pass through.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import url from "node:url";

const here = path.dirname(url.fileURLToPath(import.meta.url));
const mpPath = path.join(here, "..", "tools", "mpwasm", "node_modules", "@micropython",
  "micropython-webassembly-pyscript", "micropython.mjs");
const { loadMicroPython } = await import(url.pathToFileURL(mpPath).href);

const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const LABEL = Buffer.from("pooldesk-prov-v1");
const KEYS_INFO = Buffer.from("pooldesk-prov-v1 keys");
const RECORD_MAX = 8192; // prov_frame.MAX_MESSAGE

let gcTotal = null;
let turns = 0;
const report = (obj) => console.log("@@RAM " + JSON.stringify(obj));

function hmac(key, ...parts) {
  const h = crypto.createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return h.digest();
}

class Client {
  constructor(deviceId, claimCode, mtu) {
    this.deviceId = deviceId;
    this.claimCode = claimCode;
    this.mtu = mtu;
    this.pair = crypto.generateKeyPairSync("x25519");
    this.pub = Buffer.from(this.pair.publicKey.export({ format: "jwk" }).x, "base64url");
    this.sendSeq = 0;
    this.recvSeq = 0;
    this.parts = {};
    this.reqId = 0;
  }
  frames(message) {
    const room = this.mtu - 3 - 4;
    const out = [];
    this.reqId = (this.reqId + 1) & 0xff;
    for (let pos = 0, index = 0; ; pos += room, index++) {
      const last = pos + room >= message.length;
      const head = Buffer.from([this.reqId, last ? 1 : 0, index >> 8, index & 0xff]);
      out.push(Buffer.concat([head, message.subarray(pos, pos + room)]));
      if (last) return out;
    }
  }
  plain(obj) {
    return Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify(obj))]);
  }
  hello() {
    return this.frames(this.plain({ v: 1, op: "hello", client_pub: this.pub.toString("hex") }));
  }
  onHello(obj) {
    const devicePub = Buffer.from(obj.device_pub, "hex");
    const peer = crypto.createPublicKey({
      key: { kty: "OKP", crv: "X25519", x: devicePub.toString("base64url") }, format: "jwk" });
    const shared = crypto.diffieHellman({ privateKey: this.pair.privateKey, publicKey: peer });
    this.th = crypto.createHash("sha256").update(Buffer.concat([
      LABEL, Buffer.from([0]), Buffer.from(this.deviceId), Buffer.from([0]), this.pub, devicePub,
    ])).digest();
    const okm = Buffer.from(crypto.hkdfSync("sha256",
      Buffer.concat([shared, Buffer.from(this.claimCode)]), this.th, KEYS_INFO, 192));
    this.keys = [0, 1, 2, 3, 4, 5].map((i) => okm.subarray(32 * i, 32 * i + 32));
  }
  confirm() {
    const mac = hmac(this.keys[4], Buffer.from("client"), this.th);
    return this.frames(this.plain({ v: 1, op: "confirm", mac: mac.toString("hex") }));
  }
  onConfirm(obj) {
    const expect = hmac(this.keys[5], Buffer.from("device"), this.th).toString("hex");
    if (obj.mac !== expect) throw new Error("the device's confirm mac is wrong");
  }
  seal(endpoint, plaintext) {
    this.sendSeq += 1;
    const seq = Buffer.alloc(4);
    seq.writeUInt32BE(this.sendSeq);
    const head = Buffer.concat([Buffer.from([2]), seq]);
    const iv = Buffer.concat([seq, Buffer.alloc(12)]);
    const c = crypto.createCipheriv("aes-256-ctr", this.keys[0], iv);
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    const tag = hmac(this.keys[1], Buffer.from(endpoint + "\0"), head, ct);
    return Buffer.concat([head, ct, tag]);
  }
  open(endpoint, record) {
    const head = record.subarray(0, 5);
    const ct = record.subarray(5, record.length - 32);
    const tag = hmac(this.keys[3], Buffer.from(endpoint + "\0"), head, ct);
    if (!tag.equals(record.subarray(record.length - 32))) throw new Error("bad device record");
    const d = crypto.createDecipheriv("aes-256-ctr", this.keys[2],
      Buffer.concat([head.subarray(1, 5), Buffer.alloc(12)]));
    return Buffer.concat([d.update(ct), d.final()]);
  }
  // A device answer frame; returns the message's JSON once it is complete, else null.
  reply(endpoint, frame) {
    const parts = (this.parts[endpoint] ||= []);
    parts.push(frame.subarray(4));
    if (!(frame[1] & 1)) return null;
    const message = Buffer.concat(parts);
    this.parts[endpoint] = [];
    if (message[0] === 1) return JSON.parse(message.subarray(1).toString());
    return JSON.parse(this.open(endpoint, message).toString());
  }
  bindingFrames(binding) {
    // The largest sealed message a device takes: pad the JSON with insignificant spaces.
    const text = JSON.stringify({ v: 1, op: "binding", binding });
    const room = RECORD_MAX - 37 - text.length;
    if (room < 0) throw new Error("binding too large");
    const padded = text.slice(0, -1) + " ".repeat(room) + "}";
    const record = this.seal("prov-config", Buffer.from(padded));
    return { record: record.length, frames: this.frames(record) };
  }
}

const mp = await loadMicroPython({
  heapsize: job.heapsize,
  stdout: (line) => {
    const m = /^GC: total: (\d+)/.exec(line);
    if (m) gcTotal = Number(m[1]);
    else if (!line.startsWith("stack:") && !line.startsWith(" No. of")) console.log(line);
  },
  stderr: (line) => console.error(line),
});

function writeTree(dest, src) {
  mp.FS.mkdirTree(dest);
  for (const name of fs.readdirSync(src)) {
    mp.FS.writeFile(path.posix.join(dest, name), fs.readFileSync(path.join(src, name)));
  }
}
for (const [dest, src] of job.trees) writeTree(dest, src);
mp.FS.mkdirTree("/flash");
mp.FS.writeFile("/flash/factory.json", JSON.stringify({ device_id: job.device_id, claim_code: job.claim_code }));

const client = new Client(job.device_id, job.claim_code, job.mtu);
let pending = [];
const hex = (frames) => frames.map((f) => f.toString("hex")).join(",");
mp.registerJsModule("benchclient", {
  // The client's frames for a step, as comma-separated hex (small messages).
  hello: () => hex(client.hello()),
  confirm: () => hex(client.confirm()),
  // The 8 KB sealed binding: frames go to a file in the in-memory FS (outside the heap).
  binding: () => {
    const { record, frames } = client.bindingFrames(job.binding);
    const lens = [];
    for (const f of frames) lens.push(f.length);
    mp.FS.writeFile("/frames.bin", Buffer.concat(frames));
    return JSON.stringify({ record, lens });
  },
  // A device frame (hex) on an endpoint -> the completed message's op, or "" while partial.
  reply: (endpoint, frameHex) => {
    const obj = client.reply(endpoint, Buffer.from(frameHex, "hex"));
    if (obj === null) return "";
    pending.push(obj);
    if (obj.op === "hello") client.onHello(obj);
    if (obj.op === "confirm") client.onConfirm(obj);
    return JSON.stringify(obj);
  },
  // A JS turn for the bench's sampling (bench_board.py). Node's own collection runs now and
  // then, so the proxies of finished awaits are released from the MicroPython heap.
  turn: () => {
    turns += 1;
    if (turns % 20 === 0 && globalThis.gc) globalThis.gc();
    return new Promise((resolve) => setTimeout(resolve, 0));
  },
  // The GC heap's total size now (it grows only when a collection could not make room).
  gc_total: () => gcTotal,
});

try {
  await mp.runPythonAsync(job.script);
  if (job.save_flash) {
    // The flash as the run left it (config.json with the binding), for a reboot run.
    for (const name of mp.FS.readdir("/flash")) {
      if (name !== "." && name !== "..") {
        fs.writeFileSync(path.join(job.save_flash, name), mp.FS.readFile("/flash/" + name));
      }
    }
  }
  report({ done: true, gc_total: gcTotal });
} catch (e) {
  if (e && e.name === "PythonError") {
    report({ error: e.type, message: String(e.message).slice(-2000), gc_total: gcTotal });
  } else {
    report({ error: "node", message: String(e && e.stack ? e.stack : e).slice(0, 2000) });
  }
}
process.exit(0);
