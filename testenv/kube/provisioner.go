package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// annProvisionedBy marks PVs we created, so we only ever delete our own.
const annProvisionedBy = "pv.kubernetes.io/provisioned-by"

// annStorageProvisioner is set on a PVC by the PV controller when it waits for
// an external provisioner; the DefaultStorageClass admission plugin fills in
// the class, so this also covers claims that name no class.
const annStorageProvisioner = "volume.kubernetes.io/storage-provisioner"

// provisioner creates one hostPath PV per pending claim of its storage classes
// and pre-binds it (claimRef); the real PV controller in
// kube-controller-manager then completes the binding. No kubelet ever mounts
// these volumes (nodes are KWOK fakes), the directory only makes the PV honest.
type provisioner struct {
	name    string
	root    string
	client  kubernetes.Interface
	classes storagelisters.StorageClassLister
	mu      sync.Mutex
}

func runProvisioner(args []string) int {
	fs := flag.NewFlagSet("provisioner", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster")
	name := fs.String("name", "req1.dev/hostpath", "provisioner name matched against StorageClass.provisioner")
	root := fs.String("root", "volumes", "directory under which volume directories are created")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeconfig:", err)
		return 1
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	absRoot, err := filepath.Abs(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "root:", err)
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	factory := informers.NewSharedInformerFactory(client, 5*time.Second)
	p := &provisioner{name: *name, root: absRoot, client: client, classes: factory.Storage().V1().StorageClasses().Lister()}
	pvcs := factory.Core().V1().PersistentVolumeClaims().Informer()
	pvs := factory.Core().V1().PersistentVolumes().Informer()
	onPVC := func(obj any) {
		if pvc, ok := obj.(*corev1.PersistentVolumeClaim); ok {
			p.provision(ctx, pvc)
		}
	}
	onPV := func(obj any) {
		if pv, ok := obj.(*corev1.PersistentVolume); ok {
			p.reclaim(ctx, pv)
		}
	}
	if _, err := pvcs.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: onPVC, UpdateFunc: func(_, o any) { onPVC(o) }}); err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		return 1
	}
	if _, err := pvs.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: onPV, UpdateFunc: func(_, o any) { onPV(o) }}); err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		return 1
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			fmt.Fprintln(os.Stderr, "cache sync failed for", typ)
			return 1
		}
	}
	fmt.Fprintf(os.Stderr, "provisioner %s ready, volumes under %s\n", p.name, p.root)
	<-ctx.Done()
	return 0
}

// ours tells whether a claim is waiting for this provisioner.
func (p *provisioner) ours(pvc *corev1.PersistentVolumeClaim) bool {
	if pvc.Annotations[annStorageProvisioner] == p.name {
		return true
	}
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName == "" {
		return false
	}
	sc, err := p.classes.Get(*pvc.Spec.StorageClassName)
	return err == nil && sc.Provisioner == p.name
}

func (p *provisioner) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim) {
	if pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimPending || pvc.DeletionTimestamp != nil || !p.ours(pvc) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	name := "pvc-" + string(pvc.UID)
	dir := filepath.Join(p.root, name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		fmt.Fprintln(os.Stderr, "mkdir:", err)
		return
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if pvc.Spec.StorageClassName != nil {
		if sc, err := p.classes.Get(*pvc.Spec.StorageClassName); err == nil && sc.ReclaimPolicy != nil {
			reclaim = *sc.ReclaimPolicy
		}
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	hostPathType := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: p.name}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              class,
			VolumeMode:                    pvc.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &hostPathType},
			},
		},
	}
	_, err := p.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	switch {
	case err == nil:
		fmt.Fprintf(os.Stderr, "provisioned %s for %s/%s\n", name, pvc.Namespace, pvc.Name)
	case apierrors.IsAlreadyExists(err):
	default:
		fmt.Fprintf(os.Stderr, "create PV %s: %v\n", name, err)
	}
}

// reclaim deletes our Released volumes whose policy is Delete, so namespaces
// deleted by tests do not leave PVs behind.
func (p *provisioner) reclaim(ctx context.Context, pv *corev1.PersistentVolume) {
	if pv.Annotations[annProvisionedBy] != p.name || pv.Status.Phase != corev1.VolumeReleased ||
		pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.DeletionTimestamp != nil {
		return
	}
	if pv.Spec.HostPath != nil && filepath.Dir(pv.Spec.HostPath.Path) == p.root {
		_ = os.RemoveAll(pv.Spec.HostPath.Path)
	}
	err := p.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		fmt.Fprintf(os.Stderr, "delete PV %s: %v\n", pv.Name, err)
		return
	}
	fmt.Fprintf(os.Stderr, "reclaimed %s\n", pv.Name)
}
