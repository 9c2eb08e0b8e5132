// Bottleneck's light build (no Redis clustering) is the one plugin-throttling loads; the forge uses the same
// module, so the bundle carries one copy. The package types only its main entry, which has the same API.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
