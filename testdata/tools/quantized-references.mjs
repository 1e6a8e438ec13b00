// Writes testdata/arch/quantized-reference.json: llama.cpp's greedy ids and top-5 probabilities for the
// Q8_0 and Q4_0 copies of the tiny architecture models (made with `llama-quantize --pure`) and the MXFP4
// copy of gpt-oss (`llama-quantize IN OUT MXFP4_MOE`: experts MXFP4, other matrices Q8_0), with the
// prompts of reference.json, an F32 KV cache and flash attention off, as reference.json was made.
// Run it from the folder where ../shared/tools/llama-cpp-peer.sh installed node-llama-cpp (node resolves the
// package from the script's folder, so copy it there):
//   cp testdata/tools/quantized-references.mjs ~/.cache/hearth-peer/ && node ~/.cache/hearth-peer/quantized-references.mjs testdata/arch
import {getLlama} from "node-llama-cpp";
import fs from "node:fs";
import path from "node:path";

const dir = process.argv[2];
const ref = JSON.parse(fs.readFileSync(path.join(dir, "reference.json"), "utf8"));
const llama = await getLlama({gpu: false, build: "never", usePrebuiltBinaries: true});
const out = {about: "llama.cpp (node-llama-cpp 3.22.1, commit de3ff81, CPU), n_ctx 256, KV cache F32, flash attention off; "
    + "files made with llama-quantize --pure from the F32 files; prompts and prompt_tokens as in reference.json; "
    + "generated: 24 greedy ids; top5[i]: the five most probable next tokens with their probabilities at step i", models: {}};
const steps = 24;
for (const [file, cases] of Object.entries(ref.models)) {
  for (const type of ["q8_0", "q4_0", "mxfp4"]) {
    const q = file.replace("-f32.gguf", "-" + type + ".gguf");
    if (!fs.existsSync(path.join(dir, q))) continue;
    const model = await llama.loadModel({modelPath: path.join(dir, q)});
    const results = [];
    for (const c of cases) {
      const generated = [];
      const top5 = [];
      const context = await model.createContext({contextSize: 256, batchSize: 256, flashAttention: false, threads: 1,
        experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"});
      const seq = context.getSequence();
      for await (const o of seq.evaluateWithMetadata(c.prompt_tokens, {probabilities: true}, {temperature: 0})) {
        generated.push(o.token);
        top5.push([...o.probabilities.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5));
        if (generated.length >= steps) break;
      }
      await context.dispose();
      results.push({prompt: c.prompt, prompt_tokens: c.prompt_tokens, generated, top5});
    }
    out.models[q] = results;
    await model.dispose();
    console.error(q, results.map(r => r.generated.length).join(","));
  }
}
fs.writeFileSync(path.join(dir, "quantized-reference.json"), JSON.stringify(out));
