// The Python side of training (training/*.py: LightGBM, scikit-learn, lifetimes), run as
// child processes of `churnstream train`. The environment is training/.venv, made by
// training/setup.sh from the pinned requirements the first time it is needed;
// CHURNSTREAM_PYTHON points elsewhere (an interpreter that has them).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fromPackageRoot } from '../files/package-root.js';

export class TrainerError extends Error {
  override readonly name = 'TrainerError';
  /** Exit code 2: the script refused the data or options (its message is on stderr). */
  readonly refused: boolean;
  constructor(message: string, code: number | null = null) {
    super(message);
    this.refused = code === 2;
  }
}

/** Runs a program; its stderr goes to ours (progress, warnings); resolves with its stdout. */
function run(program: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: fromPackageRoot(), env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', (error) => reject(new TrainerError(`${program}: ${error.message}`)));
    child.on('close', (code, signal) =>
      code === 0
        ? resolve(out)
        : reject(
            new TrainerError(`${[program, ...args.slice(0, 1)].join(' ')} failed (${signal ?? `exit ${code}`})`, code),
          ),
    );
  });
}

export interface PythonTrainer {
  /** training/train.py with these options; resolves with its JSON summary (stdout). */
  train(args: readonly string[]): Promise<string>;
  /** training/model_card.py with these options; resolves with the Markdown. */
  modelCard(args: readonly string[]): Promise<string>;
}

const NUMPY_AVX512 = 'AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR';

export async function pythonTrainer(log: (line: string) => void): Promise<PythonTrainer> {
  // numpy/scipy pick BLAS kernels and numpy its own SIMD loops by CPU, and the fits then differ
  // in the last digits between machines: one BLAS kernel, one thread and numpy's AVX2 loops (no
  // AVX-512, which only some servers have) keep the artifacts reproducible byte for byte.
  const env = {
    ...process.env,
    OPENBLAS_CORETYPE: process.env['OPENBLAS_CORETYPE'] ?? 'Haswell',
    OPENBLAS_NUM_THREADS: '1',
    NPY_DISABLE_CPU_FEATURES: process.env['NPY_DISABLE_CPU_FEATURES'] ?? NUMPY_AVX512,
  };
  let python = process.env['CHURNSTREAM_PYTHON'];
  if (python === undefined) {
    python = fromPackageRoot('training', '.venv', 'bin', 'python');
    if (!existsSync(python)) log('setting up training/.venv (training/requirements.txt), once');
    // Idempotent and quick when the environment matches the requirements.
    await run('bash', [fromPackageRoot('training', 'setup.sh')], env);
  }
  const script = (name: string) => fromPackageRoot('training', name);
  return {
    train: (args) => run(python, [script('train.py'), ...args], env),
    modelCard: (args) => run(python, [script('model_card.py'), ...args], env),
  };
}
