// Apache ECharts (图表), vendored under ../vendor/echarts/ (see its README: version, licence,
// SHA-256) and loaded only by the pages that draw charts: a classic script defining
// window.echarts, fetched from govhub like every other file.

let loading = null;

export function echartsReady() {
  if (window.echarts) return Promise.resolve(window.echarts);
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = new URL('../vendor/echarts/echarts.min.js', import.meta.url).href;
    script.onload = () => resolve(window.echarts);
    script.onerror = () => { loading = null; reject(new Error('图表组件加载失败，请刷新页面后重试。')); };
    document.head.append(script);
  });
  return loading;
}

// A chart in `container` (a role="img" element labelled by the caller), disposed when the
// page is left and resized with the window.
export async function draw(container, option) {
  const echarts = await echartsReady();
  const chart = echarts.init(container, null, { renderer: 'canvas', locale: 'ZH' });
  chart.setOption({ animation: false, textStyle: { fontFamily: 'inherit' }, ...option });
  const resize = () => chart.resize();
  window.addEventListener('resize', resize);
  window.addEventListener('hashchange', () => {
    window.removeEventListener('resize', resize);
    chart.dispose();
  }, { once: true });
  return chart;
}
