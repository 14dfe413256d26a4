// bottleneck/light.js (the build without Redis clustering, the one @octokit/plugin-throttling uses) ships no types of
// its own: it is the same Bottleneck class as the package's main entry.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
