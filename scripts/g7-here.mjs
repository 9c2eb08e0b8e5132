// `npm run g7 -- …`: npm runs a script from the package root, but the user meant the folder they typed it
// in (demo/, say). npm keeps that folder in INIT_CWD; g7 runs there, like ./bin/g7.mjs would.
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
await import('../bin/g7.mjs');
