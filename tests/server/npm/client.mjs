// Calls a local lastrank server through the real cohere-ai SDK (pinned in package.json):
// v1 rerank (CohereClient, object documents + rank_fields, returnDocuments) and v2 rerank
// (CohereClientV2), and a wrong key (must raise UnauthorizedError). Prints one JSON object.
// Usage: node client.mjs BASE_URL API_KEY REQUEST_JSON_FILE
import { readFileSync } from "node:fs";
import { CohereClient, CohereClientV2, CohereError } from "cohere-ai";

const [baseUrl, token, requestFile] = process.argv.slice(2);
const req = JSON.parse(readFileSync(requestFile, "utf8"));
const opts = { token, baseUrl, maxRetries: 0, timeoutInSeconds: 60 };

const v1 = await new CohereClient(opts).rerank({
  model: "jina-reranker-v3",
  query: req.query,
  documents: req.documents.map((text, i) => ({ text, id: String(i) })),
  rankFields: ["text"],
  returnDocuments: true,
  topN: req.documents.length,
});
const v2 = await new CohereClientV2(opts).rerank({
  model: "jina-reranker-v3",
  query: req.query,
  documents: req.documents,
  topN: 3,
  maxTokensPerDoc: 4096,
});
let unauthorized = null;
try {
  await new CohereClientV2({ ...opts, token: "wrong-key" }).rerank({ model: "m", query: "q", documents: ["a"] });
} catch (e) {
  unauthorized = e instanceof CohereError ? e.statusCode : String(e);
}
console.log(JSON.stringify({ v1, v2, unauthorized }));
