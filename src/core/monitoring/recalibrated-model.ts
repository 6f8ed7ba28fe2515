// A churn model with the stream's recalibration on top of its own calibration: the same
// trees, features and reasons, another probability scale and its own version name. The
// operating threshold moves with the map, so the customers "at risk" stay the same ones
// (the map keeps the order); the risk levels' fixed cut-offs see the new probabilities. The
// score's drift reference gets its edges mapped too, so a recalibration is not score drift.
import type { ChurnModel } from '../models/scoring.js';
import { applyPlatt, composeCalibration, recalibratedVersion, type StreamCalibration } from './recalibration.js';

export function recalibrated(model: ChurnModel, calibration: StreamCalibration): ChurnModel {
  const { config, reference } = model;
  const edge = (e: number) => (e > 0 && e < 1 ? applyPlatt(calibration, e) : e);
  return {
    ...model,
    reference:
      reference === null
        ? null
        : { ...reference, score: { ...reference.score, edges: reference.score.edges.map(edge) } },
    config: {
      ...config,
      version: recalibratedVersion(config.version, calibration.revision),
      calibration: composeCalibration(config.calibration, calibration),
      threshold: applyPlatt(calibration, config.threshold),
    },
  };
}
