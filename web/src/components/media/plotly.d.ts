// plotly.js-dist-min ships no types; the few names the chart uses.
declare module "plotly.js-dist-min" {
  namespace Plotly {
    type Data = Record<string, unknown>;
    type Layout = Record<string, unknown>;
  }
  const Plotly: {
    newPlot(el: HTMLElement, data: Plotly.Data[], layout?: Partial<Plotly.Layout>, config?: Record<string, unknown>): Promise<unknown>;
    purge(el: HTMLElement): void;
  };
  export default Plotly;
}
