// Dumps bundled as text by esbuild (scripts/build.mjs: loader '.iptables-save': 'text').
declare module '*.iptables-save' {
  const text: string;
  export default text;
}
