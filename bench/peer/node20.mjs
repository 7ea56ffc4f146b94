// PostGraphile 5.1.5 declares Node >= 22; on Node 20 (installed here) it runs once
// Promise.withResolvers (ES2024, Node 22) exists. Imported first by server.mjs.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
