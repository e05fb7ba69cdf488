// Runs local-aws-sqs behind a thin HTTP front that makes ReceiveMessage (JSON
// protocol) behave as in SQS:
//   - the request's MessageSystemAttributeNames (what current SDKs send) is
//     honoured: the emulator only reads the older AttributeNames;
//   - a long poll answers as soon as at least one message is available (the
//     emulator waits until MaxNumberOfMessages are gathered or the wait ends);
//   - a message appears at most once per answer;
// and makes ChangeMessageVisibility leave ApproximateReceiveCount alone (the
// emulator counts it as a receive, which sent messages to the dead-letter
// queue early). That fix patches the emulator's code as it is loaded; if the
// code is not the one expected (another version), a warning is printed and
// the emulator runs unpatched. Everything else goes to the emulator unchanged.
// Usage: node -e "<this file>" <port>   (cwd: the npm prefix holding it)
"use strict";
const http = require("http");
const { Readable } = require("stream");
const fs = require("fs");
const path = require("path");
const Module = require("module");

// The receive-count update of local-aws-sqs 2.0.2's visibility change; its
// third argument is true for ChangeMessageVisibility.
const countReceive =
  "let n=Number(t.record.attributes.ApproximateReceiveCount)+1;t.record.attributes.ApproximateReceiveCount=String(n)," +
  "n==1&&(t.record.attributes.ApproximateFirstReceiveTimestamp=Date.now().toString())";
const countReceiveUnlessChange =
  "let n=Number(t.record.attributes.ApproximateReceiveCount)+(i?0:1);t.record.attributes.ApproximateReceiveCount=String(n)," +
  "!i&&n==1&&(t.record.attributes.ApproximateFirstReceiveTimestamp=Date.now().toString())";

function loadEmulator() {
  const file = require.resolve("local-aws-sqs");
  const src = fs.readFileSync(file, "utf8");
  if (!src.includes(countReceive)) {
    console.error("sqslocal: warning: unexpected local-aws-sqs code; ChangeMessageVisibility will count as a receive");
    return require("local-aws-sqs");
  }
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  m._compile(src.replace(countReceive, countReceiveUnlessChange), file);
  return m.exports;
}
const { createRequestHandler } = loadEmulator();

const port = Number(process.argv[1]);
const { service, requestHandler } = createRequestHandler({
  port,
  hostname: "127.0.0.1",
  region: process.env.SQSLOCAL_REGION,
  accountId: process.env.SQSLOCAL_ACCOUNT,
  emulateQueueCreationLifecycle: false, // a deleted queue's name is reusable at once (tests)
});

function fakeRequest(headers, body) {
  const req = Readable.from([Buffer.from(body)]);
  req.headers = headers;
  return req;
}

// call runs one request through the emulator and returns its answer.
function call(headers, body) {
  return new Promise((resolve) => {
    const res = {
      statusCode: 200,
      headers: {},
      setHeader(k, v) { this.headers[k] = v; },
      end(b) { resolve({ status: this.statusCode, headers: this.headers, body: b === undefined ? "" : String(b) }); },
    };
    requestHandler(fakeRequest(headers, body), res);
  });
}

function send(res, r) {
  res.statusCode = r.status;
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
  res.end(r.body);
}

async function receive(req, res, body) {
  let input;
  try {
    input = JSON.parse(body);
  } catch {
    return send(res, await call(req.headers, body));
  }
  if (Array.isArray(input.MessageSystemAttributeNames)) {
    input.AttributeNames = [...new Set([...(input.AttributeNames || []), ...input.MessageSystemAttributeNames])];
  }
  let wait = input.WaitTimeSeconds;
  if (typeof wait !== "number") {
    const name = String(input.QueueUrl || "").split("/").filter(Boolean).pop();
    const q = service.Queues.find((q) => q.QueueName === name);
    wait = q ? Number(q.ReceiveMessageWaitTimeSeconds) || 0 : 0;
  }
  const deadline = Date.now() + Math.max(0, Math.min(20, wait)) * 1000;
  let gone = false;
  res.on("close", () => { gone = true; });
  input.WaitTimeSeconds = 0;
  const payload = JSON.stringify(input);
  for (;;) {
    const r = await call(req.headers, payload); // a short poll: ~40 ms unless full
    let out = null;
    if (r.status === 200 && r.body) {
      try { out = JSON.parse(r.body); } catch { out = null; }
    }
    if (out && Array.isArray(out.Messages) && out.Messages.length > 0) {
      const seen = new Set();
      out.Messages = out.Messages.filter((m) => !seen.has(m.MessageId) && seen.add(m.MessageId));
      r.body = JSON.stringify(out);
      return send(res, r);
    }
    if (r.status !== 200 || gone || Date.now() >= deadline) {
      return send(res, r);
    }
  }
}

http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString();
    const target = String(req.headers["x-amz-target"] || "");
    if (target.endsWith(".ReceiveMessage")) {
      receive(req, res, body).catch((err) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ __type: "InternalError", message: String(err) }));
      });
      return;
    }
    requestHandler(fakeRequest(req.headers, body), res);
  });
}).listen(port, "127.0.0.1", () => console.log("local-aws-sqs listening on 127.0.0.1:" + port));
